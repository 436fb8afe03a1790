"""onnxruntime's own dynamic int8 quantization of an ONNX model (the reference the int8 bench and
`export --onnx --int8` are compared with): quantize_dynamic with its defaults (weights QInt8 per
tensor, activations quantized at run time by DynamicQuantizeLinear, MatMulInteger); with
--reduce-range, 7-bit weights (|q| <= 64 there; `tokentune quantize --weight-bits 7` stores
|q| <= 63), which MLAS's AVX2 kernel (VPMADDUBSW) multiplies without saturating.

Usage: $TOKENTUNE_HF_PYTHON scripts/parity/ort-quantize-dynamic.py [--reduce-range] model.onnx model_quantized.onnx
(the venv of ../shared/bench/hf-env.sh, which has onnxruntime).
"""
import sys

from onnxruntime.quantization import QuantType, quantize_dynamic

args = [a for a in sys.argv[1:] if a != "--reduce-range"]
if len(args) != 2:
    sys.exit("usage: ort-quantize-dynamic.py [--reduce-range] IN.onnx OUT.onnx")
quantize_dynamic(args[0], args[1], weight_type=QuantType.QInt8, reduce_range="--reduce-range" in sys.argv[1:])
print(f"wrote {args[1]}")
