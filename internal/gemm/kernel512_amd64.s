//go:build amd64 && !purego

#include "textflag.h"

// The AVX-512 tiles: func kernelRx16(kc int, a *float64, rs, ks int, b, c *float64, ldc int, alpha, beta float64, ldb int)
// for R = 12, 8 and 4 rows of 16 columns. Row i of the tile is held in
// Z(8+2i) and Z(9+2i). Each step of the inner dimension loads 16 entries of
// B into Z0, Z1 and broadcasts the R entries of A, a[i·rs] for row i, into
// Z2 or Z3 in turn; SI, R11 and R12 point at rows 0, 4 and 8 and move on by
// ks (R9 = rs and R10 = 3rs in bytes). Every entry is summed in the same
// order by each tile, so a row's bits do not depend on the tile it falls
// in. C's rows are prefetched first: the loop's time hides their latency.
// The 12-row tile also prefetches the next tile down (C's rows 12–23,
// where the blocking loop goes next) and, each step, A's entries 16 steps
// ahead: at shallow inner dimensions (rank-64 updates of K-FAC factors,
// products against weights read in place) C and A come from memory, and
// these took cold Syrk from 37 to 42 GFLOP/s and cold weight products from
// 43 to 45.
// The macros work on groups of four rows, acc0..acc7 holding them in
// turn.

// ARGS loads the arguments and points R11 and R12 at rows 4 and 8 of A.
#define ARGS \
	MOVQ kc+0(FP), CX; \
	MOVQ a+8(FP), SI; \
	MOVQ rs+16(FP), R9; \
	SHLQ $3, R9; \
	LEAQ (R9)(R9*2), R10; \
	MOVQ ks+24(FP), R13; \
	SHLQ $3, R13; \
	MOVQ b+32(FP), DI; \
	MOVQ c+40(FP), DX; \
	MOVQ ldc+48(FP), R8; \
	SHLQ $3, R8; \
	LEAQ (SI)(R9*4), R11; \
	LEAQ (R11)(R9*4), R12; \
	MOVQ DX, AX

// PREFETCHC prefetches the row of C at AX, 16 values on two or three cache
// lines, and moves AX to the next.
#define PREFETCHC \
	PREFETCHT0 (AX); \
	PREFETCHT0 64(AX); \
	PREFETCHT0 127(AX); \
	ADDQ       R8, AX

#define PREFETCH4 PREFETCHC; PREFETCHC; PREFETCHC; PREFETCHC

#define ZERO4(acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7) \
	VPXORQ acc0, acc0, acc0; \
	VPXORQ acc1, acc1, acc1; \
	VPXORQ acc2, acc2, acc2; \
	VPXORQ acc3, acc3, acc3; \
	VPXORQ acc4, acc4, acc4; \
	VPXORQ acc5, acc5, acc5; \
	VPXORQ acc6, acc6, acc6; \
	VPXORQ acc7, acc7, acc7

// ROW multiplies the broadcast entry of A at addr by the two vectors of B.
#define ROW(addr, t, acc0, acc1) \
	VBROADCASTSD addr, t; \
	VFMADD231PD  Z0, t, acc0; \
	VFMADD231PD  Z1, t, acc1

// FMA4 takes one step for the four rows of A from row base.
#define FMA4(base, acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7) \
	ROW((base), Z2, acc0, acc1); \
	ROW((base)(R9*1), Z3, acc2, acc3); \
	ROW((base)(R9*2), Z2, acc4, acc5); \
	ROW((base)(R10*1), Z3, acc6, acc7)

// LOADB loads the step's 16 entries of B; NEXTB moves on to the next step
// and loops to label while steps are left.
#define LOADB \
	VMOVUPD 0(DI), Z0; \
	VMOVUPD 64(DI), Z1

#define NEXTB(label) \
	ADDQ AX, DI; \
	DECQ CX; \
	JNZ  label

// LDB loads B's step, ldb, into AX in bytes, once the prefetches are done
// with AX.
#define LDB \
	MOVQ ldb+72(FP), AX; \
	SHLQ $3, AX

// SCALE4 multiplies four rows by α (in Z0).
#define SCALE4(acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7) \
	VMULPD Z0, acc0, acc0; \
	VMULPD Z0, acc1, acc1; \
	VMULPD Z0, acc2, acc2; \
	VMULPD Z0, acc3, acc3; \
	VMULPD Z0, acc4, acc4; \
	VMULPD Z0, acc5, acc5; \
	VMULPD Z0, acc6, acc6; \
	VMULPD Z0, acc7, acc7

// ALPHA loads α into Z0; BETANZ jumps to label unless β = 0 (a NaN β reads
// C, as BLAS does).
#define ALPHA VBROADCASTSD alpha+56(FP), Z0

#define BETANZ(label) \
	MOVSD   beta+64(FP), X1; \
	VXORPD  X2, X2, X2; \
	UCOMISD X2, X1; \
	JNE     label; \
	JPS     label

// STORE writes one row of the tile to C (β = 0) and moves to the next.
#define STORE(acc0, acc1) \
	VMOVUPD acc0, 0(DX); \
	VMOVUPD acc1, 64(DX); \
	ADDQ    R8, DX

#define STORE4(acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7) \
	STORE(acc0, acc1); \
	STORE(acc2, acc3); \
	STORE(acc4, acc5); \
	STORE(acc6, acc7)

// UPDATE stores α·tile + βC in one row of C (Z1 = β) and moves on.
#define UPDATE(acc0, acc1) \
	VFMADD231PD 0(DX), Z1, acc0; \
	VMOVUPD     acc0, 0(DX); \
	VFMADD231PD 64(DX), Z1, acc1; \
	VMOVUPD     acc1, 64(DX); \
	ADDQ        R8, DX

#define UPDATE4(acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7) \
	UPDATE(acc0, acc1); \
	UPDATE(acc2, acc3); \
	UPDATE(acc4, acc5); \
	UPDATE(acc6, acc7)

// func kernel12x16(kc int, a *float64, rs, ks int, b, c *float64, ldc int, alpha, beta float64, ldb int)
TEXT ·kernel12x16(SB), NOSPLIT, $0-80
	ARGS
	PREFETCH4
	PREFETCH4
	PREFETCH4
	PREFETCH4
	PREFETCH4
	PREFETCH4
	ZERO4(Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)
	ZERO4(Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23)
	ZERO4(Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31)
	MOVQ  R13, BX
	SHLQ  $4, BX // 16 steps of A
	LDB
	TESTQ CX, CX
	JZ    store12
loop12:
	PREFETCHT0 (SI)(BX*1)
	PREFETCHT0 16(R11)(BX*1)
	PREFETCHT0 31(R12)(BX*1)
	LOADB
	FMA4(SI, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)
	FMA4(R11, Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23)
	FMA4(R12, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31)
	ADDQ  R13, SI
	ADDQ  R13, R11
	ADDQ  R13, R12
	NEXTB(loop12)
store12:
	ALPHA
	SCALE4(Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)
	SCALE4(Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23)
	SCALE4(Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31)
	BETANZ(scaled12)
	STORE4(Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)
	STORE4(Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23)
	STORE4(Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31)
	VZEROUPPER
	RET
scaled12:
	VBROADCASTSD beta+64(FP), Z1
	UPDATE4(Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)
	UPDATE4(Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23)
	UPDATE4(Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31)
	VZEROUPPER
	RET

// func kernel8x16(kc int, a *float64, rs, ks int, b, c *float64, ldc int, alpha, beta float64, ldb int)
TEXT ·kernel8x16(SB), NOSPLIT, $0-80
	ARGS
	PREFETCH4
	PREFETCH4
	ZERO4(Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)
	ZERO4(Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23)
	LDB
	TESTQ CX, CX
	JZ    store8
loop8:
	LOADB
	FMA4(SI, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)
	FMA4(R11, Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23)
	ADDQ  R13, SI
	ADDQ  R13, R11
	NEXTB(loop8)
store8:
	ALPHA
	SCALE4(Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)
	SCALE4(Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23)
	BETANZ(scaled8)
	STORE4(Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)
	STORE4(Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23)
	VZEROUPPER
	RET
scaled8:
	VBROADCASTSD beta+64(FP), Z1
	UPDATE4(Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)
	UPDATE4(Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23)
	VZEROUPPER
	RET

// func kernel4x16(kc int, a *float64, rs, ks int, b, c *float64, ldc int, alpha, beta float64, ldb int)
TEXT ·kernel4x16(SB), NOSPLIT, $0-80
	ARGS
	PREFETCH4
	ZERO4(Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)
	LDB
	TESTQ CX, CX
	JZ    store4
loop4:
	LOADB
	FMA4(SI, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)
	ADDQ  R13, SI
	NEXTB(loop4)
store4:
	ALPHA
	SCALE4(Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)
	BETANZ(scaled4)
	STORE4(Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)
	VZEROUPPER
	RET
scaled4:
	VBROADCASTSD beta+64(FP), Z1
	UPDATE4(Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)
	VZEROUPPER
	RET

// func kernel1x16(kc int, a *float64, rs, ks int, b, c *float64, ldc int, alpha, beta float64, ldb int)
//
// One row: the last one to three rows of a block, which the 12-row tile
// would otherwise compute whole into a scratch tile. Each step waits for
// the last (the two sums are chains of fused multiply-adds, in the order
// every tile sums), so by the instruction counts it runs at about half the
// wide tile's rate per row, in about a sixth of the time the 12-row tile
// took for the row (65-row products, measured: 10% faster).
TEXT ·kernel1x16(SB), NOSPLIT, $0-80
	ARGS
	PREFETCHC
	VPXORQ Z8, Z8, Z8
	VPXORQ Z9, Z9, Z9
	LDB
	TESTQ  CX, CX
	JZ     store1
loop1:
	LOADB
	ROW((SI), Z2, Z8, Z9)
	ADDQ R13, SI
	NEXTB(loop1)
store1:
	ALPHA
	VMULPD Z0, Z8, Z8
	VMULPD Z0, Z9, Z9
	BETANZ(scaled1)
	STORE(Z8, Z9)
	VZEROUPPER
	RET
scaled1:
	VBROADCASTSD beta+64(FP), Z1
	UPDATE(Z8, Z9)
	VZEROUPPER
	RET
