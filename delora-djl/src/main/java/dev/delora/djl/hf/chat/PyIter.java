package dev.delora.djl.hf.chat;

import java.util.Iterator;

/**
 * A one-shot Python iterator (a generator from {@code select}, {@code map}, {@code items}, ... or a reverse
 * iterator): always true, has no length, and is empty once iterated, as in jinja2.
 */
final class PyIter implements Iterable<Object> {

    private final String typeName;
    private final Iterator<Object> it;

    PyIter(String typeName, Iterator<Object> it) {
        this.typeName = typeName;
        this.it = it;
    }

    String typeName() {
        return typeName;
    }

    @Override
    public Iterator<Object> iterator() {
        return it;
    }
}
