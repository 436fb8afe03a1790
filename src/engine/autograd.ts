/**
 * Reverse-mode autograd. Each op that sees an input with requiresGrad (while grad mode is on)
 * records a GradNode on its output; `backward` walks those nodes in reverse topological order.
 * Backward functions accumulate into `.grad`, so a tensor used twice receives both contributions.
 */
import { Tensor, releaseBuffer, takeBuffer, takeZeroed, type GradNode } from './tensor.js';

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording anything for autograd (inference, evaluation, optimizer steps). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** True when an op over these inputs must record a node. */
export function needsGrad(...inputs: (Tensor | null | undefined)[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t && t.requiresGrad) return true;
  return false;
}

/** Attaches a node to `out` (call only when needsGrad(...) was true). */
export function record(out: Tensor, op: string, inputs: Tensor[], backward: GradNode['backward']): Tensor {
  out.requiresGrad = true;
  out.node = { op, inputs: inputs.filter((t) => t.requiresGrad), backward };
  return out;
}

/** The gradient buffer of `t`, allocated (zeroed) on first use. */
export function gradOf(t: Tensor): Float32Array | Float64Array {
  if (!t.grad) {
    const dtype = t.dtype === 'float64' ? 'float64' : 'float32';
    // Leaves (parameters) own their gradient; intermediates borrow one from the pool.
    t.grad = t.node
      ? (takeZeroed(dtype, t.size) as Float32Array | Float64Array)
      : dtype === 'float64'
        ? new Float64Array(t.size)
        : new Float32Array(t.size);
  }
  return t.grad;
}

/**
 * The gradient buffer of `t` for a GEMM that writes every element of it, with the GEMM's beta: the
 * first contribution to an intermediate's gradient overwrites a buffer that was never zero-filled
 * (beta 0); later ones, and every parameter's, accumulate (beta 1).
 */
export function gradForGemm(t: Tensor): { buf: Float32Array | Float64Array; beta: 0 | 1 } {
  if (t.grad || !t.node) return { buf: gradOf(t), beta: 1 };
  t.grad = takeBuffer(t.dtype === 'float64' ? 'float64' : 'float32', t.size) as Float32Array | Float64Array;
  return { buf: t.grad, beta: 0 };
}

/**
 * Backpropagates from `root` (a scalar unless `seed` gives its gradient). Leaf tensors keep their
 * accumulated gradient; intermediate gradients and the graph are released as soon as they are used.
 */
export function backward(root: Tensor, seed?: Float32Array | Float64Array): void {
  if (!root.requiresGrad)
    throw new Error('backward: the tensor does not require grad (no parameter reached it, or it was made under noGrad)');
  if (!seed && root.size !== 1)
    throw new Error(`backward: root has shape [${root.shape.join(', ')}]; pass its gradient for a non-scalar root`);
  const order = topoOrder(root);
  const g = gradOf(root);
  if (seed) g.set(seed);
  else g[0] += 1;
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    const node = t.node!;
    if (t.grad) {
      node.backward(t.grad);
      // Intermediates: give the gradient back and drop the graph link now; memory returns as we go.
      releaseBuffer(t.grad);
    }
    t.grad = null;
    t.node = null;
  }
}

/** Non-leaf tensors reachable from root, parents before children (iterative DFS, no recursion limit). */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, idx] = top;
    if (idx === 0) {
      if (visited.has(t) || !t.node) {
        stack.pop();
        continue;
      }
      visited.add(t);
    }
    const inputs = t.node!.inputs;
    if (idx < inputs.length) {
      top[1] = idx + 1;
      const c = inputs[idx];
      if (!visited.has(c) && c.node) stack.push([c, 0]);
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}
