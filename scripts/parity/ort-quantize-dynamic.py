"""onnxruntime's own dynamic int8 quantization of an ONNX model (the reference the int8 bench and
`export --onnx --int8` are compared with): quantize_dynamic with its defaults (weights QInt8 per
tensor, activations quantized at run time by DynamicQuantizeLinear, MatMulInteger).

Usage: $TOKENTUNE_HF_PYTHON scripts/parity/ort-quantize-dynamic.py model.onnx model_quantized.onnx
(the venv of ../shared/bench/hf-env.sh, which has onnxruntime).
"""
import sys

from onnxruntime.quantization import QuantType, quantize_dynamic

if len(sys.argv) != 3:
    sys.exit("usage: ort-quantize-dynamic.py IN.onnx OUT.onnx")
quantize_dynamic(sys.argv[1], sys.argv[2], weight_type=QuantType.QInt8)
print(f"wrote {sys.argv[2]}")
