package io.microkernel.api;

import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.PathItem;
import org.eclipse.microprofile.openapi.models.Paths;

/**
 * Publishes the {@code :predict}, {@code :classify} and {@code :activate} operations under the paths clients call.
 * Their resource methods match the whole last segment (JAX-RS cannot template {@code {model}:predict}),
 * so without this the document would list them under the bare segment.
 */
public class OpenApiVerbPaths implements OASFilter {

    private static final Map<String, List<String>> POST_PATHS = Map.of(
            "/v1/models/{model}", List.of("/v1/models/{model}:predict", "/v1/models/{model}:classify"),
            "/v1/models/{model}/versions/{version}", List.of("/v1/models/{model}/versions/{version}:activate",
                    "/v1/models/{model}/versions/{version}:predict", "/v1/models/{model}/versions/{version}:classify"));

    @Override
    public void filterOpenAPI(OpenAPI openAPI) {
        Paths paths = openAPI.getPaths();
        if (paths == null) {
            return;
        }
        POST_PATHS.forEach((template, verbPaths) -> {
            PathItem item = paths.getPathItem(template);
            if (item == null || item.getPOST() == null) {
                return;
            }
            verbPaths.forEach(verbPath -> paths.addPathItem(verbPath, OASFactory.createPathItem().POST(item.getPOST())));
            item.setPOST(null);
        });
    }
}
