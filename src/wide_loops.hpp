#pragma once
// For the library files whose loops run over sizes known only at run time (internal to src/;
// include it after the other headers: the pragma holds for the rest of the file).
// g++'s default -O2 cost model vectorises no loop that needs a remainder, so these files take the
// dynamic one (vectorising changes no bits: g++ never reorders a floating-point sum without
// -ffast-math). NNP_WIDE clones a function for AVX-512, AVX2 and the baseline, chosen at load time.
#if !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic")
#endif

#if defined(__x86_64__) && !defined(__clang__)
#define NNP_WIDE __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NNP_WIDE
#endif
