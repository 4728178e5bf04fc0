package dev.delora.core.array;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.Dropout;
import java.util.function.Consumer;
import java.util.function.Supplier;

/** Shared helpers for creating and initialising adapter parameters. */
public final class ArrayOps {

    /** Squared-norm floor: {@code sqrt(max(Σv², 1e-8))} equals PEFT's {@code clamp(‖v‖, 1e-4)} with finite gradients.
     * */
    public static final float SQUARED_NORM_FLOOR = 1e-8f;

    private ArrayOps() {}

    /**
     * Wraps an initialised array as a trainable parameter.
     *
     * @param name the parameter name
     * @param array its initial value (owned by the parameter from now on)
     * @return the parameter, with gradients enabled
     */
    public static Parameter trainable(String name, NDArray array) {
        array.setName(name);
        array.setRequiresGradient(true);
        return Parameter.builder()
                .setName(name)
                .setType(Parameter.Type.WEIGHT)
                .optArray(array)
                .optRequiresGrad(true)
                .build();
    }

    /**
     * Draws PyTorch's default {@code nn.Linear} weight init, {@code kaiming_uniform_(a=√5)}: U(−1/√fanIn, 1/√fanIn).
     *
     * @param manager the owner of the new array
     * @param shape the shape; the fan-in is its last dimension
     * @return a new float32 array
     */
    public static NDArray kaimingUniform(NDManager manager, Shape shape) {
        float bound = (float) (1.0 / Math.sqrt(shape.get(shape.dimension() - 1)));
        return manager.randomUniform(-bound, bound, shape, DataType.FLOAT32);
    }

    /**
     * Computes L2 norms along an axis with a floor that keeps the gradient finite at zero.
     *
     * @param v the array
     * @param axis the axis reduced
     * @return {@code sqrt(max(Σ v², 1e-8))} along {@code axis}
     */
    public static NDArray safeNorm(NDArray v, int axis) {
        // clip takes native scalars: DJL's maximum(Number) would put a Java-backed scalar into the autograd graph
        return v.square()
                .sum(new int[] {axis})
                .clip(SQUARED_NORM_FLOOR, Float.MAX_VALUE)
                .sqrt();
    }

    /**
     * Applies the adapter-input dropout (inverted scaling) in training, and nothing otherwise.
     *
     * @param x the layer input
     * @param rate the drop probability
     * @param training whether the forward pass is a training one
     * @return the input with dropout applied, or {@code x} itself
     */
    public static NDArray dropout(NDArray x, float rate, boolean training) {
        return training && rate > 0 ? Dropout.dropout(x, rate, true).singletonOrThrow() : x;
    }

    /**
     * Tells whether every element is finite, with one reduction and one host read (a NaN propagates through
     * {@code max}; the absolute value makes ±Inf show too, and it cannot overflow the way a sum can).
     *
     * @param a the array
     * @return false if any element is NaN or ±Inf
     */
    public static boolean allFinite(NDArray a) {
        return Float.isFinite(maxAbs(a));
    }

    /**
     * Returns the largest absolute value, NaN if any element is NaN (one reduction, one host read).
     *
     * @param a the array
     * @return {@code max |aᵢ|} as a float
     */
    public static float maxAbs(NDArray a) {
        try (NDArray abs = a.abs();
                NDArray max = abs.max();
                NDArray max32 = max.toType(DataType.FLOAT32, true)) {
            return max32.getFloat();
        }
    }

    /**
     * Overwrites an array (typically a parameter's) with values of the same shape, in place; see
     * {@link #update(NDArray, Consumer)}.
     *
     * @param target the array to overwrite
     * @param values the new values, broadcastable to {@code target}'s shape, same dtype and device
     */
    public static void assign(NDArray target, NDArray values) {
        update(target, view -> view.set(new NDIndex("..."), values));
    }

    /**
     * Changes an array (typically a parameter's) in place through a detached view of it. Autograd refuses an in-place
     * op on a leaf that records gradients whenever the calling thread records gradients, and DJL turns recording off
     * only on the thread that started the engine; library code that writes parameters (loading, merging, restoring)
     * goes through here, so it works on any thread. The view lives in a scope closed on return; {@code target} itself
     * never changes manager (lending it to a scope would put other threads' results in that scope, which closes them).
     *
     * @param target the array to change
     * @param inPlace the in-place operation, applied to a view sharing {@code target}'s storage
     */
    public static void update(NDArray target, Consumer<NDArray> inPlace) {
        try (NDManager scope = target.getManager().newSubManager()) {
            NDArray view = target.stopGradient();
            view.attach(scope);
            inPlace.accept(view);
        }
    }

    /**
     * Returns a float32 copy that owns its memory. DJL's {@code toType(FLOAT32, true)} on a float32 array returns an
     * alias on the PyTorch engine, and an alias of an array created from a Java buffer dies with that buffer.
     *
     * @param a the array
     * @return a new array with its own storage, on {@code a}'s manager
     */
    public static NDArray ownedCopy(NDArray a) {
        NDArray f = a.toType(DataType.FLOAT32, false);
        NDArray copy = f.duplicate();
        if (f != a) {
            f.close();
        }
        return copy;
    }

    /**
     * Creates a scalar constant for use as an operand in the forward pass. DJL turns a {@code Number} operand into a
     * temporary array backed by a Java buffer and closes it right after the op, while autograd may still hold it
     * for the backward pass; a constant the adapter owns stays valid.
     *
     * @param manager the adapter's manager
     * @param value the value
     * @return a 1-element float32 array
     */
    public static NDArray constant(NDManager manager, float value) {
        try (NDArray javaBacked = manager.create(new float[] {value})) {
            return javaBacked.duplicate();
        }
    }

    /**
     * Multiplies by a constant without DJL's {@code mul(Number)}, which puts a temporary scalar backed by a Java buffer
     * into the autograd graph (backward of a product reads the other factor) and lets the GC free it before backward
     * runs. The scalar here is a libtorch-owned copy, 0-dimensional and of {@code x}'s type so it neither promotes
     * nor broadcasts; closing its Java handle is safe because autograd holds its own reference.
     *
     * @param x the array
     * @param factor the constant
     * @return {@code x · factor}, on {@code x}'s manager
     */
    public static NDArray scaled(NDArray x, float factor) {
        try (NDArray javaBacked = x.getManager().create(factor);
                NDArray owned = javaBacked.duplicate();
                NDArray typed = owned.toType(x.getDataType(), true)) {
            return x.mul(typed);
        }
    }

    /**
     * Returns a buffer on the device of the input, copying only when the devices differ (buffers are created where
     * the base weight lives, so normally this is the buffer itself).
     *
     * @param buffer an adapter buffer
     * @param x the layer input
     * @return the buffer or its copy on {@code x}'s device
     */
    public static NDArray onDevice(NDArray buffer, NDArray x) {
        return buffer.getDevice().equals(x.getDevice()) ? buffer : buffer.toDevice(x.getDevice(), false);
    }

    /**
     * Runs a computation on parameter or buffer arrays and hands its results to the manager of {@code anchor} (the
     * step's input).
     *
     * <p>DJL allocates an op's result in the manager of its first operand. Math that starts from a parameter (norms,
     * scales, concatenations) would otherwise leave its temporaries in the model's manager on every step and grow
     * native memory without bound. The intermediates are closed here; autograd keeps what backward needs.
     *
     * @param anchor an array whose manager owns the results (normally the layer input)
     * @param computation the computation; fetch parameter values before calling, not inside
     * @return the results, attached to {@code anchor}'s manager
     */
    public static NDList inStepScope(NDArray anchor, Supplier<NDList> computation) {
        NDList out;
        try (NDScope scope = new NDScope()) {
            out = computation.get();
            NDScope.unregister(out);
        }
        out.attach(anchor.getManager());
        return out;
    }
}
