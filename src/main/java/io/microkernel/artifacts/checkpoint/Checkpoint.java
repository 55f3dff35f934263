package io.microkernel.artifacts.checkpoint;

import com.google.flatbuffers.FlatBufferBuilder;
import io.microkernel.artifacts.ArtifactException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An ONNX Runtime training checkpoint: the FlatBuffers file (identifier {@code ODTC}) that holds the
 * trainable and frozen parameters, and, once a session has saved it with optimizer state, the AdamW
 * moments and the step count.
 *
 * <p>Read and written by hand against the schema {@code ort_training_checkpoint.fbs}; field slots below
 * follow the schema's field order. Immutable.
 */
public final class Checkpoint {

    /** The FlatBuffers file identifier of training checkpoints. */
    public static final String FILE_IDENTIFIER = "ODTC";
    /** The format version current ONNX Runtime writes. */
    public static final int CURRENT_VERSION = 2;

    // Checkpoint
    private static final int CP_VERSION = 0, CP_MODULE_STATE = 1, CP_OPTIMIZER_GROUPS = 2, CP_PROPERTY_BAG = 3;
    // ModuleState
    private static final int MS_REQUIRES_GRAD = 0, MS_FROZEN = 1, MS_NOMINAL = 2, MS_EXTERNAL = 3;
    // Tensor
    private static final int T_NAME = 0, T_DOC = 1, T_DIMS = 2, T_TYPE = 3, T_RAW = 4, T_STRINGS = 5;
    // OptimizerGroup
    private static final int OG_NAME = 0, OG_STEP = 1, OG_LR = 2, OG_STATES = 3;
    // ParameterOptimizerState
    private static final int PS_NAME = 0, PS_MOMENTUMS = 1;
    // PropertyBag and its properties
    private static final int PB_INTS = 0, PB_FLOATS = 1, PB_STRINGS = 2;
    private static final int P_NAME = 0, P_VALUE = 1;

    /** The optimizer state of one parameter: its moment tensors ({@code momentum0}, {@code momentum1}). */
    public record ParameterState(String parameter, List<CheckpointTensor> momentums) {
        public ParameterState {
            momentums = List.copyOf(momentums);
        }
    }

    /** One optimizer group ({@code group0} in current ONNX Runtime). */
    public record OptimizerGroup(String name, long step, float initialLearningRate, List<ParameterState> states) {
        public OptimizerGroup {
            states = List.copyOf(states);
        }
    }

    /** User properties stored with the checkpoint. */
    public record Properties(Map<String, Long> ints, Map<String, Float> floats, Map<String, String> strings) {
        public static final Properties EMPTY = new Properties(Map.of(), Map.of(), Map.of());

        public Properties {
            ints = Map.copyOf(ints);
            floats = Map.copyOf(floats);
            strings = Map.copyOf(strings);
        }

        boolean isEmpty() {
            return ints.isEmpty() && floats.isEmpty() && strings.isEmpty();
        }
    }

    private final int version;
    private final List<CheckpointTensor> trainable;
    private final List<CheckpointTensor> frozen;
    private final boolean nominalState;
    private final boolean externalData;
    private final List<OptimizerGroup> optimizerGroups;
    private final Properties properties;

    public Checkpoint(int version, List<CheckpointTensor> trainable, List<CheckpointTensor> frozen,
            boolean nominalState, boolean externalData, List<OptimizerGroup> optimizerGroups, Properties properties) {
        this.version = version;
        this.trainable = List.copyOf(trainable);
        this.frozen = List.copyOf(frozen);
        this.nominalState = nominalState;
        this.externalData = externalData;
        this.optimizerGroups = List.copyOf(optimizerGroups);
        this.properties = Objects.requireNonNull(properties);
    }

    /** A fresh checkpoint as artifact generation writes it: parameters only, no optimizer state. */
    public static Checkpoint ofParameters(List<CheckpointTensor> trainable, List<CheckpointTensor> frozen) {
        return new Checkpoint(CURRENT_VERSION, trainable, frozen, false, false, List.of(), Properties.EMPTY);
    }

    public int version() {
        return version;
    }

    /** Parameters the optimizer updates ({@code requires_grad_params}). */
    public List<CheckpointTensor> trainable() {
        return trainable;
    }

    /** Parameters that stay fixed ({@code frozen_params}). */
    public List<CheckpointTensor> frozen() {
        return frozen;
    }

    /** True when the tensors hold shapes only (a nominal checkpoint for on-device initialisation). */
    public boolean nominalState() {
        return nominalState;
    }

    /** True when the tensor data lives in a separate {@code <checkpoint>.data} file. */
    public boolean externalData() {
        return externalData;
    }

    public List<OptimizerGroup> optimizerGroups() {
        return optimizerGroups;
    }

    public Properties properties() {
        return properties;
    }

    /** A parameter by name, trainable or frozen. */
    public Optional<CheckpointTensor> parameter(String name) {
        return java.util.stream.Stream.concat(trainable.stream(), frozen.stream())
                .filter(t -> t.name().equals(name)).findFirst();
    }

    /** Every parameter, trainable first. */
    public List<CheckpointTensor> parameters() {
        List<CheckpointTensor> all = new ArrayList<>(trainable);
        all.addAll(frozen);
        return all;
    }

    /** A copy with the given parameters replaced by tensors of the same name; optimizer state is kept. */
    public Checkpoint withParameters(Map<String, CheckpointTensor> replacements) {
        return new Checkpoint(version, replace(trainable, replacements), replace(frozen, replacements),
                nominalState, externalData, optimizerGroups, properties);
    }

    private static List<CheckpointTensor> replace(List<CheckpointTensor> tensors, Map<String, CheckpointTensor> by) {
        return tensors.stream().map(t -> by.getOrDefault(t.name(), t)).toList();
    }

    // ---------------------------------------------------------------- reading

    /**
     * Reads a checkpoint file.
     *
     * @throws ArtifactException naming the file when it is missing, an old directory-format checkpoint,
     *                           not a FlatBuffers checkpoint, or truncated
     */
    public static Checkpoint read(Path file) {
        checkIsFileCheckpoint(file);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ArtifactException(file, "cannot read checkpoint: " + e.getMessage(), e);
        }
        return parse(file, bytes);
    }

    /**
     * Checks that {@code file} is a current single-file checkpoint, without parsing the tensors.
     * ONNX Runtime reports an old directory checkpoint only as a short read, so it is named here first.
     */
    public static void checkIsFileCheckpoint(Path file) {
        if (Files.isDirectory(file)) {
            throw new ArtifactException(file, "old directory-format checkpoint (written by ONNX Runtime 1.15 or earlier)"
                    + "; expected a single FlatBuffers file; regenerate the artifacts with ONNX Runtime 1.16 or later");
        }
        if (!Files.isRegularFile(file)) {
            throw new ArtifactException(file, "missing checkpoint file");
        }
        byte[] head = new byte[8];
        int n;
        try (var in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, 8);
        } catch (IOException e) {
            throw new ArtifactException(file, "cannot read checkpoint: " + e.getMessage(), e);
        }
        String identifier = n == 8 ? new String(head, 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1) : "";
        if (!FILE_IDENTIFIER.equals(identifier)) {
            throw new ArtifactException(file, "not an ONNX Runtime training checkpoint: expected FlatBuffers file identifier '"
                    + FILE_IDENTIFIER + "', found " + (n < 8 ? n + " bytes" : "'" + printable(identifier) + "'"));
        }
    }

    private static String printable(String s) {
        StringBuilder out = new StringBuilder();
        for (char c : s.toCharArray()) {
            out.append(c >= 32 && c < 127 ? String.valueOf(c) : String.format("\\x%02x", (int) c));
        }
        return out.toString();
    }

    /** Parses checkpoint bytes; {@code file} only names the source in errors. */
    public static Checkpoint parse(Path file, byte[] bytes) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 8 || !FbTable.hasIdentifier(buffer, FILE_IDENTIFIER)) {
            throw new ArtifactException(file, "not an ONNX Runtime training checkpoint: expected FlatBuffers file identifier '"
                    + FILE_IDENTIFIER + "'");
        }
        try {
            FbTable root = FbTable.root(buffer);
            int version = root.int32(CP_VERSION, 0);
            List<CheckpointTensor> trainable = List.of();
            List<CheckpointTensor> frozen = List.of();
            boolean nominal = false;
            boolean external = false;
            FbTable module = root.table(CP_MODULE_STATE);
            if (module != null) {
                trainable = tensors(module, MS_REQUIRES_GRAD);
                frozen = tensors(module, MS_FROZEN);
                nominal = module.bool(MS_NOMINAL, false);
                external = module.bool(MS_EXTERNAL, false);
            }
            List<OptimizerGroup> groups = new ArrayList<>();
            for (int i = 0; i < root.length(CP_OPTIMIZER_GROUPS); i++) {
                FbTable g = root.tableAt(CP_OPTIMIZER_GROUPS, i);
                List<ParameterState> states = new ArrayList<>();
                for (int j = 0; j < g.length(OG_STATES); j++) {
                    FbTable s = g.tableAt(OG_STATES, j);
                    states.add(new ParameterState(nonNull(s.string(PS_NAME)), tensors(s, PS_MOMENTUMS)));
                }
                groups.add(new OptimizerGroup(nonNull(g.string(OG_NAME)), g.int64(OG_STEP, 0),
                        g.float32(OG_LR, 0f), states));
            }
            Properties properties = Properties.EMPTY;
            FbTable bag = root.table(CP_PROPERTY_BAG);
            if (bag != null) {
                Map<String, Long> ints = new LinkedHashMap<>();
                Map<String, Float> floats = new LinkedHashMap<>();
                Map<String, String> strings = new LinkedHashMap<>();
                for (int i = 0; i < bag.length(PB_INTS); i++) {
                    FbTable p = bag.tableAt(PB_INTS, i);
                    ints.put(nonNull(p.string(P_NAME)), p.int64(P_VALUE, 0));
                }
                for (int i = 0; i < bag.length(PB_FLOATS); i++) {
                    FbTable p = bag.tableAt(PB_FLOATS, i);
                    floats.put(nonNull(p.string(P_NAME)), p.float32(P_VALUE, 0f));
                }
                for (int i = 0; i < bag.length(PB_STRINGS); i++) {
                    FbTable p = bag.tableAt(PB_STRINGS, i);
                    strings.put(nonNull(p.string(P_NAME)), nonNull(p.string(P_VALUE)));
                }
                properties = new Properties(ints, floats, strings);
            }
            return new Checkpoint(version, trainable, frozen, nominal, external, groups, properties);
        } catch (IndexOutOfBoundsException | IllegalArgumentException | java.nio.BufferUnderflowException e) {
            throw new ArtifactException(file, "corrupt checkpoint: " + e.getClass().getSimpleName()
                    + " while reading the FlatBuffers tables", e);
        }
    }

    private static String nonNull(String s) {
        return s == null ? "" : s;
    }

    private static List<CheckpointTensor> tensors(FbTable owner, int slot) {
        List<CheckpointTensor> out = new ArrayList<>();
        for (int i = 0; i < owner.length(slot); i++) {
            FbTable t = owner.tableAt(slot, i);
            long[] dims = new long[t.length(T_DIMS)];
            for (int d = 0; d < dims.length; d++) {
                dims[d] = t.int64At(T_DIMS, d);
            }
            List<String> strings = new ArrayList<>();
            for (int s = 0; s < t.length(T_STRINGS); s++) {
                strings.add(t.stringAt(T_STRINGS, s));
            }
            out.add(new CheckpointTensor(nonNull(t.string(T_NAME)), dims, t.int32(T_TYPE, 0), t.bytes(T_RAW), strings));
        }
        return out;
    }

    // ---------------------------------------------------------------- writing

    /** The FlatBuffers bytes of this checkpoint. */
    public byte[] toBytes() {
        long size = 1024;
        for (CheckpointTensor t : parameters()) {
            size += t.rawLength() + t.name().length() + 64L;
        }
        FlatBufferBuilder b = new FlatBufferBuilder((int) Math.min(Integer.MAX_VALUE - 8, size));
        int module = writeModuleState(b);
        int groups = optimizerGroups.isEmpty() ? 0 : writeOptimizerGroups(b);
        int bag = properties.isEmpty() ? 0 : writePropertyBag(b);

        b.startTable(4);
        b.addInt(CP_VERSION, version, 0);
        b.addOffset(CP_MODULE_STATE, module, 0);
        if (groups != 0) {
            b.addOffset(CP_OPTIMIZER_GROUPS, groups, 0);
        }
        if (bag != 0) {
            b.addOffset(CP_PROPERTY_BAG, bag, 0);
        }
        int root = b.endTable();
        b.finish(root, FILE_IDENTIFIER);
        return b.sizedByteArray();
    }

    private int writeModuleState(FlatBufferBuilder b) {
        int requiresGrad = tensorVector(b, trainable);
        int frozenVector = tensorVector(b, frozen);
        b.startTable(4);
        b.addOffset(MS_REQUIRES_GRAD, requiresGrad, 0);
        b.addOffset(MS_FROZEN, frozenVector, 0);
        b.addBoolean(MS_NOMINAL, nominalState, false);
        b.addBoolean(MS_EXTERNAL, externalData, false);
        return b.endTable();
    }

    private int writeOptimizerGroups(FlatBufferBuilder b) {
        int[] groupOffsets = new int[optimizerGroups.size()];
        for (int i = 0; i < groupOffsets.length; i++) {
            OptimizerGroup g = optimizerGroups.get(i);
            int[] stateOffsets = new int[g.states().size()];
            for (int j = 0; j < stateOffsets.length; j++) {
                ParameterState s = g.states().get(j);
                int name = b.createString(s.parameter());
                int momentums = tensorVector(b, s.momentums());
                b.startTable(2);
                b.addOffset(PS_NAME, name, 0);
                b.addOffset(PS_MOMENTUMS, momentums, 0);
                stateOffsets[j] = b.endTable();
            }
            int name = b.createString(g.name());
            int states = b.createVectorOfTables(stateOffsets);
            b.startTable(4);
            b.addOffset(OG_NAME, name, 0);
            b.addLong(OG_STEP, g.step(), 0);
            b.addFloat(OG_LR, g.initialLearningRate(), 0);
            b.addOffset(OG_STATES, states, 0);
            groupOffsets[i] = b.endTable();
        }
        return b.createVectorOfTables(groupOffsets);
    }

    private int writePropertyBag(FlatBufferBuilder b) {
        int ints = propertyVector(b, properties.ints(), (builder, v) -> builder.addLong(P_VALUE, v, 0));
        int floats = propertyVector(b, properties.floats(), (builder, v) -> builder.addFloat(P_VALUE, v, 0));
        int[] stringOffsets = new int[properties.strings().size()];
        int k = 0;
        for (Map.Entry<String, String> e : properties.strings().entrySet()) {
            int name = b.createString(e.getKey());
            int value = b.createString(e.getValue());
            b.startTable(2);
            b.addOffset(P_NAME, name, 0);
            b.addOffset(P_VALUE, value, 0);
            stringOffsets[k++] = b.endTable();
        }
        int strings = b.createVectorOfTables(stringOffsets);
        b.startTable(3);
        b.addOffset(PB_INTS, ints, 0);
        b.addOffset(PB_FLOATS, floats, 0);
        b.addOffset(PB_STRINGS, strings, 0);
        return b.endTable();
    }

    private interface ValueWriter<V> {
        void add(FlatBufferBuilder builder, V value);
    }

    private static <V> int propertyVector(FlatBufferBuilder b, Map<String, V> values, ValueWriter<V> writer) {
        int[] offsets = new int[values.size()];
        int k = 0;
        for (Map.Entry<String, V> e : values.entrySet()) {
            int name = b.createString(e.getKey());
            b.startTable(2);
            b.addOffset(P_NAME, name, 0);
            writer.add(b, e.getValue());
            offsets[k++] = b.endTable();
        }
        return b.createVectorOfTables(offsets);
    }

    private static int tensorVector(FlatBufferBuilder b, List<CheckpointTensor> tensors) {
        int[] offsets = new int[tensors.size()];
        for (int i = 0; i < offsets.length; i++) {
            CheckpointTensor t = tensors.get(i);
            int name = b.createString(t.name());
            int doc = b.createString("");
            long[] dims = t.dims();
            b.startVector(8, dims.length, 8);
            for (int d = dims.length - 1; d >= 0; d--) {
                b.addLong(dims[d]);
            }
            int dimsVector = b.endVector();
            int raw = b.createByteVector(t.rawDataUnsafe());
            int strings = 0;
            if (!t.stringData().isEmpty()) {
                int[] s = new int[t.stringData().size()];
                for (int k = 0; k < s.length; k++) {
                    s[k] = b.createString(t.stringData().get(k));
                }
                strings = b.createVectorOfTables(s);
            }
            b.startTable(6);
            b.addOffset(T_NAME, name, 0);
            b.addOffset(T_DOC, doc, 0);
            b.addOffset(T_DIMS, dimsVector, 0);
            b.addInt(T_TYPE, t.dataType(), 0);
            b.addOffset(T_RAW, raw, 0);
            if (strings != 0) {
                b.addOffset(T_STRINGS, strings, 0);
            }
            offsets[i] = b.endTable();
        }
        return b.createVectorOfTables(offsets);
    }

    /** Writes the checkpoint to {@code file} (replacing it). Callers that need atomicity write to a temp file. */
    public void write(Path file) {
        try {
            Files.write(file, toBytes());
        } catch (IOException e) {
            throw new ArtifactException(file, "cannot write checkpoint: " + e.getMessage(), e);
        }
    }
}
