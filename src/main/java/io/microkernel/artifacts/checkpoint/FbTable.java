package io.microkernel.artifacts.checkpoint;

import com.google.flatbuffers.Table;
import java.nio.ByteBuffer;

/** Generic read access to one FlatBuffers table, addressed by field slot (0 = first field of the schema). */
final class FbTable extends Table {

    FbTable(ByteBuffer buffer, int position) {
        __reset(position, buffer);
    }

    static FbTable root(ByteBuffer buffer) {
        return new FbTable(buffer, buffer.getInt(buffer.position()) + buffer.position());
    }

    static boolean hasIdentifier(ByteBuffer buffer, String identifier) {
        return __has_identifier(buffer, identifier);
    }

    private int field(int slot) {
        return __offset(4 + 2 * slot);
    }

    boolean has(int slot) {
        return field(slot) != 0;
    }

    String string(int slot) {
        int o = field(slot);
        return o == 0 ? null : __string(o + bb_pos);
    }

    int int32(int slot, int defaultValue) {
        int o = field(slot);
        return o == 0 ? defaultValue : bb.getInt(o + bb_pos);
    }

    long int64(int slot, long defaultValue) {
        int o = field(slot);
        return o == 0 ? defaultValue : bb.getLong(o + bb_pos);
    }

    float float32(int slot, float defaultValue) {
        int o = field(slot);
        return o == 0 ? defaultValue : bb.getFloat(o + bb_pos);
    }

    boolean bool(int slot, boolean defaultValue) {
        int o = field(slot);
        return o == 0 ? defaultValue : bb.get(o + bb_pos) != 0;
    }

    FbTable table(int slot) {
        int o = field(slot);
        return o == 0 ? null : new FbTable(bb, __indirect(o + bb_pos));
    }

    int length(int slot) {
        int o = field(slot);
        return o == 0 ? 0 : __vector_len(o);
    }

    FbTable tableAt(int slot, int index) {
        int element = __vector(field(slot)) + index * 4;
        return new FbTable(bb, __indirect(element));
    }

    String stringAt(int slot, int index) {
        return __string(__vector(field(slot)) + index * 4);
    }

    long int64At(int slot, int index) {
        return bb.getLong(__vector(field(slot)) + index * 8);
    }

    byte[] bytes(int slot) {
        int o = field(slot);
        if (o == 0) {
            return new byte[0];
        }
        int start = __vector(o);
        byte[] out = new byte[__vector_len(o)];
        bb.get(start, out);
        return out;
    }
}
