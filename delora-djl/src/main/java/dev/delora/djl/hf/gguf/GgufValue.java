package dev.delora.djl.hf.gguf;

import java.util.List;

/**
 * One metadata value of a GGUF file.
 *
 * @param type the value type
 * @param elementType for an {@link GgufValueType#ARRAY}, the type of its elements; otherwise {@code null}
 * @param value the value, as {@link GgufValueType} describes (an array is a {@code List})
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {

    /**
     * Returns the elements of an array value.
     *
     * @return the list (unmodifiable)
     * @throws IllegalStateException if this is no array
     */
    public List<?> list() {
        if (type != GgufValueType.ARRAY) {
            throw new IllegalStateException("a " + type + " value is no array");
        }
        return (List<?>) value;
    }

    /**
     * Describes the type for messages.
     *
     * @return e.g. {@code UINT32} or {@code ARRAY of STRING}
     */
    public String describeType() {
        return type == GgufValueType.ARRAY ? "ARRAY of " + elementType : type.name();
    }
}
