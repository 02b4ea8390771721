//go:build amd64 && !purego

#include "textflag.h"

// AVX-512 kernels for the functions of scalar.go, instruction for
// operation in the same order as the AVX2 kernels of kernel_amd64.s, so
// that they give the same bits. Each loop takes 16 entries at a time as
// two vectors of 8 whose instructions interleave (the macros below issue
// each instruction for chain a, then for chain b): the functions are long
// chains of dependent operations, and a second chain fills the pipelines
// while the first waits. The last 1–15 entries go through masked loads
// and stores. Only AVX-512F instructions are used.

#include "tab_amd64.h"

// REDUCE2: T = x·log2e + magic (k in its low dwords), K = k, X = x − k·ln 2,
// for two chains (a, b), as reduce.
#define REDUCE2(X, T, K, Xb, Tb, Kb) \
	VMOVUPD      MAGIC, T; \
	VMOVUPD      MAGIC, Tb; \
	VFMADD231PD  LOG2E, X, T; \
	VFMADD231PD  LOG2E, Xb, Tb; \
	VSUBPD       MAGIC, T, K; \
	VSUBPD       MAGIC, Tb, Kb; \
	VFNMADD231PD LN2HI, K, X; \
	VFNMADD231PD LN2HI, Kb, Xb; \
	VFNMADD231PD LN2LO, K, X; \
	VFNMADD231PD LN2LO, Kb, Xb

// POLY2: P = P(r) of expPoly, r in X.
#define POLY2(X, P, Xb, Pb) \
	VMOVUPD      EXPPOLY(0), P; \
	VMOVUPD      EXPPOLY(0), Pb; \
	VFMADD213PD  EXPPOLY(1), X, P; \
	VFMADD213PD  EXPPOLY(1), Xb, Pb; \
	VFMADD213PD  EXPPOLY(2), X, P; \
	VFMADD213PD  EXPPOLY(2), Xb, Pb; \
	VFMADD213PD  EXPPOLY(3), X, P; \
	VFMADD213PD  EXPPOLY(3), Xb, Pb; \
	VFMADD213PD  EXPPOLY(4), X, P; \
	VFMADD213PD  EXPPOLY(4), Xb, Pb; \
	VFMADD213PD  EXPPOLY(5), X, P; \
	VFMADD213PD  EXPPOLY(5), Xb, Pb; \
	VFMADD213PD  EXPPOLY(6), X, P; \
	VFMADD213PD  EXPPOLY(6), Xb, Pb; \
	VFMADD213PD  EXPPOLY(7), X, P; \
	VFMADD213PD  EXPPOLY(7), Xb, Pb; \
	VFMADD213PD  EXPPOLY(8), X, P; \
	VFMADD213PD  EXPPOLY(8), Xb, Pb; \
	VFMADD213PD  EXPPOLY(9), X, P; \
	VFMADD213PD  EXPPOLY(9), Xb, Pb; \
	VFMADD213PD  EXPPOLY(10), X, P; \
	VFMADD213PD  EXPPOLY(10), Xb, Pb; \
	VFMADD213PD  EXPPOLY(11), X, P; \
	VFMADD213PD  EXPPOLY(11), Xb, Pb

// EXP2: P = e^x for x in X (clobbered), as exp1; Z30 = expLo, Z31 = expHi.
#define EXP2(X, T, K, P, Xb, Tb, Kb, Pb) \
	VMINPD       X, Z31, X; \
	VMINPD       Xb, Z31, Xb; \
	VMAXPD       X, Z30, X; \
	VMAXPD       Xb, Z30, Xb; \
	REDUCE2(X, T, K, Xb, Tb, Kb); \
	POLY2(X, P, Xb, Pb); \
	VFMADD213PD  ONE, X, P; \
	VFMADD213PD  ONE, Xb, Pb; \
	VFMADD213PD  ONE, X, P; \
	VFMADD213PD  ONE, Xb, Pb; \
	VPSRAD       $1, T, K; \
	VPSRAD       $1, Tb, Kb; \
	VPSUBQ       K, T, T; \
	VPSUBQ       Kb, Tb, Tb; \
	VPADDQ       BIAS, K, K; \
	VPADDQ       BIAS, Kb, Kb; \
	VPADDQ       BIAS, T, T; \
	VPADDQ       BIAS, Tb, Tb; \
	VPSLLQ       $52, K, K; \
	VPSLLQ       $52, Kb, Kb; \
	VPSLLQ       $52, T, T; \
	VPSLLQ       $52, Tb, Tb; \
	VMULPD       K, P, P; \
	VMULPD       Kb, Pb, Pb; \
	VMULPD       T, P, P; \
	VMULPD       Tb, Pb, Pb

// TANH2: P = tanh x for x in X (clobbered), as tanh1; Z29 = tanhHi.
#define TANH2(X, T, K, P, SG, Xb, Tb, Kb, Pb, SGb) \
	VPANDQ       SIGNMASK, X, SG; \
	VPANDQ       SIGNMASK, Xb, SGb; \
	VPANDQ       ABSMASK, X, X; \
	VPANDQ       ABSMASK, Xb, Xb; \
	VMINPD       X, Z29, X; \
	VMINPD       Xb, Z29, Xb; \
	VADDPD       X, X, X; \
	VADDPD       Xb, Xb, Xb; \
	REDUCE2(X, T, K, Xb, Tb, Kb); \
	POLY2(X, P, Xb, Pb); \
	VMULPD       X, X, K; \
	VMULPD       Xb, Xb, Kb; \
	VFMADD213PD  X, K, P; \
	VFMADD213PD  Xb, Kb, Pb; \
	VPADDQ       BIAS, T, T; \
	VPADDQ       BIAS, Tb, Tb; \
	VPSLLQ       $52, T, T; \
	VPSLLQ       $52, Tb, Tb; \
	VSUBPD       ONE, T, K; \
	VSUBPD       ONE, Tb, Kb; \
	VFMADD213PD  K, T, P; \
	VFMADD213PD  Kb, Tb, Pb; \
	VADDPD       TWO, P, K; \
	VADDPD       TWO, Pb, Kb; \
	VDIVPD       K, P, P; \
	VDIVPD       Kb, Pb, Pb; \
	VPORQ        SG, P, P; \
	VPORQ        SGb, Pb, Pb

// SIGMOID2: P = 1/(1+e^{−x}) for x in X (kept), as sigmoid1; M is a mask
// register (x < 0 as an integer: the sign bit), Z27 = 0, Z28 = 1.
#define SIGMOID2(X, A, T, K, P, M, Xb, Ab, Tb, Kb, Pb, Mb) \
	VPORQ        SIGNMASK, X, A; \
	VPORQ        SIGNMASK, Xb, Ab; \
	EXP2(A, T, K, P, Ab, Tb, Kb, Pb); \
	VADDPD       ONE, P, K; \
	VADDPD       ONE, Pb, Kb; \
	VPCMPQ       $1, Z27, X, M; \
	VPCMPQ       $1, Z27, Xb, Mb; \
	VBLENDMPD    P, Z28, M, P; \
	VBLENDMPD    Pb, Z28, Mb, Pb; \
	VDIVPD       K, P, P; \
	VDIVPD       Kb, Pb, Pb

// SOFTPLUS2: P = log(1+e^x) for x in X (kept), as softplus1 and log1p01;
// M is a mask register (e ≥ ½), Z27 = 0.
#define SOFTPLUS2(X, A, T, K, P, F, H, S, W, M, Xb, Ab, Tb, Kb, Pb, Fb, Hb, Sb, Wb, Mb) \
	VPORQ        SIGNMASK, X, A; \
	VPORQ        SIGNMASK, Xb, Ab; \
	EXP2(A, T, K, P, Ab, Tb, Kb, Pb); \
	VCMPPD       $0x1d, HALF, P, M; \
	VCMPPD       $0x1d, HALF, Pb, Mb; \
	VSUBPD       ONE, P, F; \
	VSUBPD       ONE, Pb, Fb; \
	VMULPD       HALF, F, F; \
	VMULPD       HALF, Fb, Fb; \
	VBLENDMPD    F, P, M, F; \
	VBLENDMPD    Fb, Pb, Mb, Fb; \
	VMOVUPD.Z    ONE, M, K; \
	VMOVUPD.Z    ONE, Mb, Kb; \
	VMULPD       F, F, H; \
	VMULPD       Fb, Fb, Hb; \
	VMULPD       HALF, H, H; \
	VMULPD       HALF, Hb, Hb; \
	VADDPD       TWO, F, S; \
	VADDPD       TWO, Fb, Sb; \
	VDIVPD       S, F, S; \
	VDIVPD       Sb, Fb, Sb; \
	VMULPD       S, S, W; \
	VMULPD       Sb, Sb, Wb; \
	VMOVUPD      LOGPOLY(0), P; \
	VMOVUPD      LOGPOLY(0), Pb; \
	VFMADD213PD  LOGPOLY(1), W, P; \
	VFMADD213PD  LOGPOLY(1), Wb, Pb; \
	VFMADD213PD  LOGPOLY(2), W, P; \
	VFMADD213PD  LOGPOLY(2), Wb, Pb; \
	VFMADD213PD  LOGPOLY(3), W, P; \
	VFMADD213PD  LOGPOLY(3), Wb, Pb; \
	VFMADD213PD  LOGPOLY(4), W, P; \
	VFMADD213PD  LOGPOLY(4), Wb, Pb; \
	VFMADD213PD  LOGPOLY(5), W, P; \
	VFMADD213PD  LOGPOLY(5), Wb, Pb; \
	VFMADD213PD  LOGPOLY(6), W, P; \
	VFMADD213PD  LOGPOLY(6), Wb, Pb; \
	VFMADD213PD  LOGPOLY(7), W, P; \
	VFMADD213PD  LOGPOLY(7), Wb, Pb; \
	VFMADD213PD  LOGPOLY(8), W, P; \
	VFMADD213PD  LOGPOLY(8), Wb, Pb; \
	VFMADD213PD  LOGPOLY(9), W, P; \
	VFMADD213PD  LOGPOLY(9), Wb, Pb; \
	VMULPD       W, P, P; \
	VMULPD       Wb, Pb, Pb; \
	VADDPD       P, H, P; \
	VADDPD       Pb, Hb, Pb; \
	VMULPD       LN2LO, K, T; \
	VMULPD       LN2LO, Kb, Tb; \
	VFMADD213PD  T, S, P; \
	VFMADD213PD  Tb, Sb, Pb; \
	VSUBPD       P, H, H; \
	VSUBPD       Pb, Hb, Hb; \
	VSUBPD       F, H, H; \
	VSUBPD       Fb, Hb, Hb; \
	VMULPD       LN2HI, K, K; \
	VMULPD       LN2HI, Kb, Kb; \
	VSUBPD       H, K, K; \
	VSUBPD       Hb, Kb, Kb; \
	VMAXPD       X, Z27, P; \
	VMAXPD       Xb, Z27, Pb; \
	VADDPD       K, P, P; \
	VADDPD       Kb, Pb, Pb

// MAP16 applies BODY, which takes x in Z0 and Z16 and leaves f(x) in OUTA
// and OUTB, to 16 entries at a time: DI = dst, SI = x, R10 = len, AX =
// index, DX = len rounded down to a multiple of 16; K1 and K2 select the
// first and the second 8 of the last R10 − AX < 16 entries.
#define MAP16(OUTA, OUTB) \
	MOVQ      dst_base+0(FP), DI; \
	MOVQ      x_base+24(FP), SI; \
	MOVQ      x_len+32(FP), R10; \
	XORQ      AX, AX; \
	MOVQ      R10, DX; \
	ANDQ      $-16, DX; \
	JZ        tail; \
loop: \
	VMOVUPD   (SI)(AX*8), Z0; \
	VMOVUPD   64(SI)(AX*8), Z16; \
	BODY; \
	VMOVUPD   OUTA, (DI)(AX*8); \
	VMOVUPD   OUTB, 64(DI)(AX*8); \
	ADDQ      $16, AX; \
	CMPQ      AX, DX; \
	JLT       loop; \
tail: \
	CMPQ      AX, R10; \
	JEQ       done; \
	MOVQ      R10, CX; \
	SUBQ      AX, CX; \
	MOVQ      $1, R9; \
	SHLQ      CX, R9; \
	DECQ      R9; \
	KMOVW     R9, K1; \
	SHRQ      $8, R9; \
	KMOVW     R9, K2; \
	VMOVUPD.Z (SI)(AX*8), K1, Z0; \
	VMOVUPD.Z 64(SI)(AX*8), K2, Z16; \
	BODY; \
	VMOVUPD   OUTA, K1, (DI)(AX*8); \
	VMOVUPD   OUTB, K2, 64(DI)(AX*8); \
done: \
	VZEROUPPER; \
	RET

#define BODY EXP2(Z0, Z1, Z2, Z3, Z16, Z17, Z18, Z19)

// func expAVX512(dst, x []float64)
TEXT ·expAVX512(SB), NOSPLIT, $0-48
	VMOVUPD EXPLO, Z30
	VMOVUPD EXPHI, Z31
	MAP16(Z3, Z19)

#undef BODY

#define BODY TANH2(Z0, Z1, Z2, Z3, Z4, Z16, Z17, Z18, Z19, Z20)

// func tanhAVX512(dst, x []float64)
TEXT ·tanhAVX512(SB), NOSPLIT, $0-48
	VMOVUPD TANHHI, Z29
	MAP16(Z3, Z19)

#undef BODY

#define BODY SIGMOID2(Z0, Z1, Z2, Z3, Z4, K3, Z16, Z17, Z18, Z19, Z20, K4)

// func sigmoidAVX512(dst, x []float64)
TEXT ·sigmoidAVX512(SB), NOSPLIT, $0-48
	VMOVUPD EXPLO, Z30
	VMOVUPD EXPHI, Z31
	VPXORQ  Z27, Z27, Z27
	VMOVUPD ONE, Z28
	MAP16(Z4, Z20)

#undef BODY

#define BODY SOFTPLUS2(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, K3, Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, K4)

// func softplusAVX512(dst, x []float64)
TEXT ·softplusAVX512(SB), NOSPLIT, $0-48
	VMOVUPD EXPLO, Z30
	VMOVUPD EXPHI, Z31
	VPXORQ  Z27, Z27, Z27
	MAP16(Z4, Z20)

#undef BODY
