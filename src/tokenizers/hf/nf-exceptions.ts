/**
 * Combining marks that Node's ICU gives a non-zero canonical combining class but the Rust
 * unicode-normalization-alignments crate (older Unicode tables) treats as unassigned: no
 * reordering around them (we treat them as starters that neither compose nor decompose). Generated
 * by scripts/gen-nf-exceptions.mjs, probing Python tokenizers (NFD of the mark followed by U+0334)
 * for every mark ICU reorders. 154 code points.
 */
export const NF_UNASSIGNED_IN_RUST = '7fd,897-89f,8ca-8d3,9fe,c3c,d3b-d3c,eba,1715,1abf-1add,1ae0-1aeb,1df6-1dfa,a82c,10d24-10d27,10d69-10d6d,10eab-10eac,10efa-10efb,10efd-10eff,10f46-10f50,10f82-10f85,11070,1133b,113ce-113d0,1145e,11839-1183a,1193d-1193e,11943,119e0,11a34,11a47,11a99,11d42,11d44-11d45,11d97,11f41-11f42,1612f,16ff0-16ff1,1e08f,1e130-1e136,1e2ae,1e2ec-1e2ef,1e4ec-1e4ef,1e5ee-1e5ef,1e6e3,1e6e6,1e6ee-1e6ef,1e6f5';

/** Characters ICU decomposes (NFD/NFKD) that the Rust crate leaves as they are. 192 code points. */
export const NF_NO_DECOMPOSITION_IN_RUST = '32ff,a7f1-a7f4,ab69,105c9,105e4,10781-10785,10787-107b0,107b2-107ba,11383,11385,1138e,11391,113c5,113c7-113c8,11938,16121-16128,16d68-16d6a,1ccd6-1ccf9,1e030-1e06d,1f16c,1fbf0-1fbf9';
