//go:build amd64 && !purego

#include "textflag.h"

// AVX2 versions of the loops in kernels.go, with the same operations in the
// same order and no fused multiply-add, so they give the same bits.

// func sgdMomentumAVX2(x, g, b []float64, mom, c, nlr float64)
// len(x) is a multiple of 8. b ← mom·b + c·g; x ← x + nlr·b.
TEXT ·sgdMomentumAVX2(SB), NOSPLIT, $0-96
	MOVQ         x_base+0(FP), DI
	MOVQ         x_len+8(FP), CX
	MOVQ         g_base+24(FP), SI
	MOVQ         b_base+48(FP), DX
	VBROADCASTSD mom+72(FP), Y0
	VBROADCASTSD c+80(FP), Y1
	VBROADCASTSD nlr+88(FP), Y2
	XORQ         AX, AX
	TESTQ        CX, CX
	JZ           sgddone

sgdloop:
	VMULPD  (DX)(AX*8), Y0, Y3   // mom·b
	VMULPD  32(DX)(AX*8), Y0, Y4
	VMULPD  (SI)(AX*8), Y1, Y5   // c·g
	VMULPD  32(SI)(AX*8), Y1, Y6
	VADDPD  Y5, Y3, Y3           // b
	VADDPD  Y6, Y4, Y4
	VMOVUPD Y3, (DX)(AX*8)
	VMOVUPD Y4, 32(DX)(AX*8)
	VMULPD  Y2, Y3, Y3           // nlr·b
	VMULPD  Y2, Y4, Y4
	VADDPD  (DI)(AX*8), Y3, Y3   // x + nlr·b
	VADDPD  32(DI)(AX*8), Y4, Y4
	VMOVUPD Y3, (DI)(AX*8)
	VMOVUPD Y4, 32(DI)(AX*8)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     sgdloop

sgddone:
	VZEROUPPER
	RET

// func adamAVX2(x, g, m, v []float64, k *adamCoef)
// len(x) is a multiple of 4. With k = {b1, c1, b2, c2, decay, nstep, ibc2s, eps}:
// m ← b1·m + c1·g; v ← b2·v + (c2·g)·g; x ← decay·x + (nstep·m)/(√v·ibc2s + eps).
TEXT ·adamAVX2(SB), NOSPLIT, $0-104
	MOVQ         x_base+0(FP), DI
	MOVQ         x_len+8(FP), CX
	MOVQ         g_base+24(FP), SI
	MOVQ         m_base+48(FP), DX
	MOVQ         v_base+72(FP), R8
	MOVQ         k+96(FP), R9
	VBROADCASTSD 0(R9), Y8   // b1
	VBROADCASTSD 8(R9), Y9   // c1
	VBROADCASTSD 16(R9), Y10 // b2
	VBROADCASTSD 24(R9), Y11 // c2
	VBROADCASTSD 32(R9), Y12 // decay
	VBROADCASTSD 40(R9), Y13 // nstep
	VBROADCASTSD 48(R9), Y14 // ibc2s
	VBROADCASTSD 56(R9), Y15 // eps
	XORQ         AX, AX
	TESTQ        CX, CX
	JZ           adamdone

adamloop:
	VMOVUPD (SI)(AX*8), Y0       // g
	VMULPD  (DX)(AX*8), Y8, Y1   // b1·m
	VMULPD  Y0, Y9, Y2           // c1·g
	VADDPD  Y2, Y1, Y1           // m
	VMOVUPD Y1, (DX)(AX*8)
	VMULPD  (R8)(AX*8), Y10, Y3  // b2·v
	VMULPD  Y0, Y11, Y4          // c2·g
	VMULPD  Y0, Y4, Y4           // (c2·g)·g
	VADDPD  Y4, Y3, Y3           // v
	VMOVUPD Y3, (R8)(AX*8)
	VSQRTPD Y3, Y3
	VMULPD  Y14, Y3, Y3          // √v·ibc2s
	VADDPD  Y15, Y3, Y3          // + eps
	VMULPD  Y1, Y13, Y1          // nstep·m
	VDIVPD  Y3, Y1, Y1           // (nstep·m)/denom
	VMULPD  (DI)(AX*8), Y12, Y5  // decay·x
	VADDPD  Y1, Y5, Y5
	VMOVUPD Y5, (DI)(AX*8)
	ADDQ    $4, AX
	CMPQ    AX, CX
	JLT     adamloop

adamdone:
	VZEROUPPER
	RET
