{
  "targets": [
    {
      "target_name": "tokentune",
      "sources": [
        "native/addon.cc",
        "native/cpu.cc",
        "native/thread_pool.cc",
        "native/gemm.cc",
        "native/blas.cc",
        "native/parallel_ops.cc",
        "native/attention.cc",
        "native/ops_scalar.cc",
        "native/gemm_bf16.cc",
        "native/bf16_addon.cc",
        "native/gemm_int8.cc",
        "native/int8_addon.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off"],
      "cflags_cc": ["-fexceptions"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CFLAGS": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off"]
      },
      "conditions": [
        # x86-64: AVX2 / AVX-512 kernels, each compiled with per-function targets (no -m flags here).
        ["target_arch=='x64'", {
          "sources": [
            "native/gemm_avx2.cc",
            "native/gemm_avx512.cc",
            "native/ops_avx2.cc",
            "native/ops_avx512.cc",
            "native/gemm_int8_x86.cc"
          ]
        }],
        # arm64 (Linux g++, Apple clang): NEON kernels; the baseline stays ARMv8.0, the dotprod /
        # I8MM int8 tiles carry their own targets (native/gemm_int8_arm.cc).
        ["target_arch=='arm64'", {
          "sources": [
            "native/gemm_neon.cc",
            "native/ops_neon.cc",
            "native/gemm_int8_arm.cc"
          ]
        }],
        # TOKENTUNE_BLAS loads the library with dlopen at run time (never linked).
        ["OS=='linux'", {
          "libraries": ["-ldl"]
        }]
      ]
    }
  ]
}
