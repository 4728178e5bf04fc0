package dev.delora.djl.hf.chat;

import java.util.List;
import java.util.Map;

/** Something a template can call: a macro, a global function or a bound method. */
interface PyCallable {

    /**
     * Calls with positional and keyword arguments.
     *
     * @param args positional arguments
     * @param kwargs keyword arguments, in call order
     * @return the result value
     */
    Object call(List<Object> args, Map<String, Object> kwargs);
}
