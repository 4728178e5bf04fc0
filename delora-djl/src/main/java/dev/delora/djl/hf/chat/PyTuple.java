package dev.delora.djl.hf.chat;

import java.util.List;

/**
 * A Python tuple: like a list for iteration, length, indexing and comparison, but never equal to a list and
 * printed with parentheses.
 *
 * @param items the elements
 */
record PyTuple(List<Object> items) {

    PyTuple {
        items = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(items));
    }
}
