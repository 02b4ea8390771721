//go:build amd64 && !purego

#include "textflag.h"

// AVX2 and FMA kernels for the functions of scalar.go, instruction for
// operation in the same order, so that they give the same bits. Each loop
// takes 4 entries at a time; the last 1–3 go through masked loads and
// stores (the masked-off lanes compute on zeros and are not written).
// Constants are rows of ·tab (kernel_amd64.go), 64 bytes each.

#include "tab_amd64.h"

// REDUCE: T = x·log2e + magic (k in its low dwords), K = k, X = x − k·ln 2.
#define REDUCE(X, T, K) \
	VMOVUPD      MAGIC, T; \
	VFMADD231PD  LOG2E, X, T; \
	VSUBPD       MAGIC, T, K; \
	VFNMADD231PD LN2HI, K, X; \
	VFNMADD231PD LN2LO, K, X

// POLY: P = P(r) of expPoly, r in R.
#define POLY(R, P) \
	VMOVUPD     EXPPOLY(0), P; \
	VFMADD213PD EXPPOLY(1), R, P; \
	VFMADD213PD EXPPOLY(2), R, P; \
	VFMADD213PD EXPPOLY(3), R, P; \
	VFMADD213PD EXPPOLY(4), R, P; \
	VFMADD213PD EXPPOLY(5), R, P; \
	VFMADD213PD EXPPOLY(6), R, P; \
	VFMADD213PD EXPPOLY(7), R, P; \
	VFMADD213PD EXPPOLY(8), R, P; \
	VFMADD213PD EXPPOLY(9), R, P; \
	VFMADD213PD EXPPOLY(10), R, P; \
	VFMADD213PD EXPPOLY(11), R, P

// EXP: P = e^x for x in X (clobbered), with Y13 = expLo and Y14 = expHi;
// T and K are scratch. As exp1.
#define EXP(X, T, K, P) \
	VMINPD      X, Y14, X; \
	VMAXPD      X, Y13, X; \
	REDUCE(X, T, K); \
	POLY(X, P); \
	VFMADD213PD ONE, X, P; \
	VFMADD213PD ONE, X, P; \
	VPSRAD      $1, T, K; \
	VPSUBQ      K, T, T; \
	VPADDQ      BIAS, K, K; \
	VPADDQ      BIAS, T, T; \
	VPSLLQ      $52, K, K; \
	VPSLLQ      $52, T, T; \
	VMULPD      K, P, P; \
	VMULPD      T, P, P

// TANH: P = tanh x for x in X (clobbered), with Y15 = tanhHi. As tanh1.
#define TANH(X, T, K, P, SG) \
	VANDPD      SIGNMASK, X, SG; \
	VANDPD      ABSMASK, X, X; \
	VMINPD      X, Y15, X; \
	VADDPD      X, X, X; \
	REDUCE(X, T, K); \
	POLY(X, P); \
	VMULPD      X, X, K; \
	VFMADD213PD X, K, P; \
	VPADDQ      BIAS, T, T; \
	VPSLLQ      $52, T, T; \
	VSUBPD      ONE, T, K; \
	VFMADD213PD K, T, P; \
	VADDPD      TWO, P, K; \
	VDIVPD      K, P, P; \
	VORPD       SG, P, P

// SIGMOID: P = 1/(1+e^{−x}) for x in X (kept), with Y12 = 1. As sigmoid1.
#define SIGMOID(X, A, T, K, P) \
	VORPD     SIGNMASK, X, A; \
	EXP(A, T, K, P); \
	VADDPD    ONE, P, K; \
	VBLENDVPD X, P, Y12, P; \
	VDIVPD    K, P, P

// SOFTPLUS: P = log(1+e^x) for x in X (kept), with Y12 = 0; A, T, K, F,
// H, S, Z are scratch. As softplus1 and log1p01.
#define SOFTPLUS(X, A, T, K, P, F, H, S, Z) \
	VORPD       SIGNMASK, X, A; \
	EXP(A, T, K, P); \
	VCMPPD      $0x1d, HALF, P, K; \
	VSUBPD      ONE, P, F; \
	VMULPD      HALF, F, F; \
	VBLENDVPD   K, F, P, F; \
	VANDPD      ONE, K, K; \
	VMULPD      F, F, H; \
	VMULPD      HALF, H, H; \
	VADDPD      TWO, F, S; \
	VDIVPD      S, F, S; \
	VMULPD      S, S, Z; \
	VMOVUPD     LOGPOLY(0), P; \
	VFMADD213PD LOGPOLY(1), Z, P; \
	VFMADD213PD LOGPOLY(2), Z, P; \
	VFMADD213PD LOGPOLY(3), Z, P; \
	VFMADD213PD LOGPOLY(4), Z, P; \
	VFMADD213PD LOGPOLY(5), Z, P; \
	VFMADD213PD LOGPOLY(6), Z, P; \
	VFMADD213PD LOGPOLY(7), Z, P; \
	VFMADD213PD LOGPOLY(8), Z, P; \
	VFMADD213PD LOGPOLY(9), Z, P; \
	VMULPD      Z, P, P; \
	VADDPD      P, H, P; \
	VMULPD      LN2LO, K, T; \
	VFMADD213PD T, S, P; \
	VSUBPD      P, H, H; \
	VSUBPD      F, H, H; \
	VMULPD      LN2HI, K, K; \
	VSUBPD      H, K, K; \
	VMAXPD      X, Y12, P; \
	VADDPD      K, P, P

// The loop: MAP loads x (and g) with LOAD, or LOADTAIL for the last 1–3
// entries, applies BODY, which leaves f in OUT, 4 entries at a time: DI =
// dst, SI = x, R8 = g, CX = len, AX = index, DX = len rounded down to a
// multiple of 4, Y11 the tail's lane mask.
#define PROLOGUE \
	MOVQ dst_base+0(FP), DI; \
	MOVQ x_base+24(FP), SI; \
	MOVQ x_len+32(FP), CX; \
	XORQ AX, AX; \
	MOVQ CX, DX; \
	ANDQ $-4, DX

#define MAP(OUT) \
	TESTQ        DX, DX; \
	JZ           tail; \
loop: \
	LOAD; \
	BODY; \
	VMOVUPD      OUT, (DI)(AX*8); \
	ADDQ         $4, AX; \
	CMPQ         AX, DX; \
	JLT          loop; \
tail: \
	CMPQ         AX, CX; \
	JEQ          done; \
	MOVQ         CX, BX; \
	SUBQ         AX, BX; \
	MOVQ         BX, X11; \
	VPBROADCASTQ X11, Y11; \
	VPCMPGTQ     LANES, Y11, Y11; \
	LOADTAIL; \
	BODY; \
	VMASKMOVPD   OUT, Y11, (DI)(AX*8); \
done: \
	VZEROUPPER; \
	RET

// The functions of x.
#define LOAD VMOVUPD (SI)(AX*8), Y0
#define LOADTAIL VMASKMOVPD (SI)(AX*8), Y11, Y0

#define BODY EXP(Y0, Y1, Y2, Y3)

// func expAVX2(dst, x []float64)
TEXT ·expAVX2(SB), NOSPLIT, $0-48
	PROLOGUE
	VMOVUPD EXPLO, Y13
	VMOVUPD EXPHI, Y14
	MAP(Y3)

#undef BODY
#define BODY TANH(Y0, Y1, Y2, Y3, Y4)

// func tanhAVX2(dst, x []float64)
TEXT ·tanhAVX2(SB), NOSPLIT, $0-48
	PROLOGUE
	VMOVUPD TANHHI, Y15
	MAP(Y3)

#undef BODY
#define BODY SIGMOID(Y0, Y1, Y2, Y3, Y4)

// func sigmoidAVX2(dst, x []float64)
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-48
	PROLOGUE
	VMOVUPD EXPLO, Y13
	VMOVUPD EXPHI, Y14
	VMOVUPD ONE, Y12
	MAP(Y4)

#undef BODY
#define BODY SOFTPLUS(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8)

// func softplusAVX2(dst, x []float64)
TEXT ·softplusAVX2(SB), NOSPLIT, $0-48
	PROLOGUE
	VMOVUPD EXPLO, Y13
	VMOVUPD EXPHI, Y14
	VXORPD  Y12, Y12, Y12
	MAP(Y4)

#undef BODY
#undef LOAD
#undef LOADTAIL

// The functions of x and g.
#define LOAD VMOVUPD (SI)(AX*8), Y0; VMOVUPD (R8)(AX*8), Y2
#define LOADTAIL VMASKMOVPD (SI)(AX*8), Y11, Y0; VMASKMOVPD (R8)(AX*8), Y11, Y2
#define BODY VADDPD Y2, Y0, Y1

// func addAVX2(dst, x, g []float64): dst = x + g.
TEXT ·addAVX2(SB), NOSPLIT, $0-72
	PROLOGUE
	MOVQ g_base+48(FP), R8
	MAP(Y1)

#undef BODY
#define BODY VMULPD Y0, Y0, Y1; VSUBPD Y1, Y12, Y1; VMULPD Y2, Y1, Y1

// func tanhBackwardAVX2(dst, x, g []float64): dst = (1 − x²)·g.
TEXT ·tanhBackwardAVX2(SB), NOSPLIT, $0-72
	PROLOGUE
	MOVQ g_base+48(FP), R8
	VMOVUPD ONE, Y12
	MAP(Y1)

#undef BODY
#define BODY VSUBPD Y0, Y12, Y1; VMULPD Y1, Y0, Y1; VMULPD Y2, Y1, Y1

// func sigmoidBackwardAVX2(dst, x, g []float64): dst = x(1 − x)·g.
TEXT ·sigmoidBackwardAVX2(SB), NOSPLIT, $0-72
	PROLOGUE
	MOVQ g_base+48(FP), R8
	VMOVUPD ONE, Y12
	MAP(Y1)

#undef BODY
#undef LOAD
#undef LOADTAIL
