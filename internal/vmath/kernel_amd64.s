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

// Each kernel: DI = dst, SI = x, CX = len, AX = index, DX = len rounded
// down to a multiple of 4; Y11 holds the tail's lane mask.
#define PROLOGUE \
	MOVQ dst_base+0(FP), DI; \
	MOVQ x_base+24(FP), SI; \
	MOVQ x_len+32(FP), CX; \
	XORQ AX, AX; \
	MOVQ CX, DX; \
	ANDQ $-4, DX

#define TAILMASK \
	MOVQ         CX, BX; \
	SUBQ         AX, BX; \
	MOVQ         BX, X11; \
	VPBROADCASTQ X11, Y11; \
	VPCMPGTQ     LANES, Y11, Y11

// The backward kernels: DI = dst, SI = y, R8 = g, as PROLOGUE otherwise.
#define PROLOGUE3 \
	MOVQ dst_base+0(FP), DI; \
	MOVQ y_base+24(FP), SI; \
	MOVQ y_len+32(FP), CX; \
	MOVQ g_base+48(FP), R8; \
	XORQ AX, AX; \
	MOVQ CX, DX; \
	ANDQ $-4, DX

// TANHBACK: P = (1 − Y²)·G, G in a register or memory.
#define TANHBACK(Y, G, P) \
	VMULPD Y, Y, P; \
	VSUBPD P, Y12, P; \
	VMULPD G, P, P

// SIGBACK: P = Y(1 − Y)·G.
#define SIGBACK(Y, G, P) \
	VSUBPD Y, Y12, P; \
	VMULPD P, Y, P; \
	VMULPD G, P, P

// func expAVX2(dst, x []float64)
TEXT ·expAVX2(SB), NOSPLIT, $0-48
	PROLOGUE
	VMOVUPD EXPLO, Y13
	VMOVUPD EXPHI, Y14
	TESTQ   DX, DX
	JZ      exptail

exploop:
	VMOVUPD (SI)(AX*8), Y0
	EXP(Y0, Y1, Y2, Y3)
	VMOVUPD Y3, (DI)(AX*8)
	ADDQ    $4, AX
	CMPQ    AX, DX
	JLT     exploop

exptail:
	CMPQ       AX, CX
	JEQ        expdone
	TAILMASK
	VMASKMOVPD (SI)(AX*8), Y11, Y0
	EXP(Y0, Y1, Y2, Y3)
	VMASKMOVPD Y3, Y11, (DI)(AX*8)

expdone:
	VZEROUPPER
	RET

// func tanhAVX2(dst, x []float64)
TEXT ·tanhAVX2(SB), NOSPLIT, $0-48
	PROLOGUE
	VMOVUPD TANHHI, Y15
	TESTQ   DX, DX
	JZ      tanhtail

tanhloop:
	VMOVUPD (SI)(AX*8), Y0
	TANH(Y0, Y1, Y2, Y3, Y4)
	VMOVUPD Y3, (DI)(AX*8)
	ADDQ    $4, AX
	CMPQ    AX, DX
	JLT     tanhloop

tanhtail:
	CMPQ       AX, CX
	JEQ        tanhdone
	TAILMASK
	VMASKMOVPD (SI)(AX*8), Y11, Y0
	TANH(Y0, Y1, Y2, Y3, Y4)
	VMASKMOVPD Y3, Y11, (DI)(AX*8)

tanhdone:
	VZEROUPPER
	RET

// func sigmoidAVX2(dst, x []float64)
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-48
	PROLOGUE
	VMOVUPD EXPLO, Y13
	VMOVUPD EXPHI, Y14
	VMOVUPD ONE, Y12
	TESTQ   DX, DX
	JZ      sigtail

sigloop:
	VMOVUPD (SI)(AX*8), Y0
	SIGMOID(Y0, Y1, Y2, Y3, Y4)
	VMOVUPD Y4, (DI)(AX*8)
	ADDQ    $4, AX
	CMPQ    AX, DX
	JLT     sigloop

sigtail:
	CMPQ       AX, CX
	JEQ        sigdone
	TAILMASK
	VMASKMOVPD (SI)(AX*8), Y11, Y0
	SIGMOID(Y0, Y1, Y2, Y3, Y4)
	VMASKMOVPD Y4, Y11, (DI)(AX*8)

sigdone:
	VZEROUPPER
	RET

// func softplusAVX2(dst, x []float64)
TEXT ·softplusAVX2(SB), NOSPLIT, $0-48
	PROLOGUE
	VMOVUPD EXPLO, Y13
	VMOVUPD EXPHI, Y14
	VXORPD  Y12, Y12, Y12
	TESTQ   DX, DX
	JZ      sptail

sploop:
	VMOVUPD (SI)(AX*8), Y0
	SOFTPLUS(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8)
	VMOVUPD Y4, (DI)(AX*8)
	ADDQ    $4, AX
	CMPQ    AX, DX
	JLT     sploop

sptail:
	CMPQ       AX, CX
	JEQ        spdone
	TAILMASK
	VMASKMOVPD (SI)(AX*8), Y11, Y0
	SOFTPLUS(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8)
	VMASKMOVPD Y4, Y11, (DI)(AX*8)

spdone:
	VZEROUPPER
	RET

// func addAVX2(dst, x []float64)
TEXT ·addAVX2(SB), NOSPLIT, $0-48
	PROLOGUE
	TESTQ DX, DX
	JZ    addtail

addloop:
	VMOVUPD (DI)(AX*8), Y0
	VADDPD  (SI)(AX*8), Y0, Y0
	VMOVUPD Y0, (DI)(AX*8)
	ADDQ    $4, AX
	CMPQ    AX, DX
	JLT     addloop

addtail:
	CMPQ       AX, CX
	JEQ        adddone
	TAILMASK
	VMASKMOVPD (DI)(AX*8), Y11, Y0
	VMASKMOVPD (SI)(AX*8), Y11, Y1
	VADDPD     Y1, Y0, Y0
	VMASKMOVPD Y0, Y11, (DI)(AX*8)

adddone:
	VZEROUPPER
	RET

// func tanhBackwardAVX2(dst, y, g []float64)
TEXT ·tanhBackwardAVX2(SB), NOSPLIT, $0-72
	PROLOGUE3
	VMOVUPD ONE, Y12
	TESTQ   DX, DX
	JZ      tbtail

tbloop:
	VMOVUPD (SI)(AX*8), Y0
	TANHBACK(Y0, (R8)(AX*8), Y1)
	VMOVUPD Y1, (DI)(AX*8)
	ADDQ    $4, AX
	CMPQ    AX, DX
	JLT     tbloop

tbtail:
	CMPQ       AX, CX
	JEQ        tbdone
	TAILMASK
	VMASKMOVPD (SI)(AX*8), Y11, Y0
	VMASKMOVPD (R8)(AX*8), Y11, Y2
	TANHBACK(Y0, Y2, Y1)
	VMASKMOVPD Y1, Y11, (DI)(AX*8)

tbdone:
	VZEROUPPER
	RET

// func sigmoidBackwardAVX2(dst, y, g []float64)
TEXT ·sigmoidBackwardAVX2(SB), NOSPLIT, $0-72
	PROLOGUE3
	VMOVUPD ONE, Y12
	TESTQ   DX, DX
	JZ      sbtail

sbloop:
	VMOVUPD (SI)(AX*8), Y0
	SIGBACK(Y0, (R8)(AX*8), Y1)
	VMOVUPD Y1, (DI)(AX*8)
	ADDQ    $4, AX
	CMPQ    AX, DX
	JLT     sbloop

sbtail:
	CMPQ       AX, CX
	JEQ        sbdone
	TAILMASK
	VMASKMOVPD (SI)(AX*8), Y11, Y0
	VMASKMOVPD (R8)(AX*8), Y11, Y2
	SIGBACK(Y0, Y2, Y1)
	VMASKMOVPD Y1, Y11, (DI)(AX*8)

sbdone:
	VZEROUPPER
	RET
