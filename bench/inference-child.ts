/**
 * The child-process side of bench/inference-boundary-bench.ts: the same load/run requests as the
 * inference worker (inference-protocol.ts), over the IPC channel of child_process.fork with V8
 * serialisation ('advanced'), so the tensors travel as typed arrays copied through the pipe.
 * A benchmark only: the product's inference runs in a worker thread (docs/scaling.md).
 */
import { OrtGraph } from '../src/engine/onnx/ort-graph.js';
import type { GraphOptions, TensorData } from '../src/engine/onnx/inference-protocol.js';

type Request = { op: 'load'; path: string; options: GraphOptions } | { op: 'run'; feeds: Record<string, TensorData> };

let graph: OrtGraph | undefined;
process.on('message', (req: Request) => {
  void (async () => {
    if (req.op === 'load') {
      graph = await OrtGraph.load(req.path, req.options);
      process.send!({ ok: true });
    } else {
      const { outputs, runMs } = await graph!.run(req.feeds);
      process.send!({ ok: true, outputs, runMs });
    }
  })();
});
process.on('disconnect', () => process.exit(0));
