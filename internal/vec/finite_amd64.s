//go:build amd64 && !purego

#include "textflag.h"

// func allFiniteAVX2(g []float64) bool
// len(g) is a multiple of 16. Sums g*0 in four accumulators: the sum stays
// 0 unless an element is NaN or infinite.
TEXT ·allFiniteAVX2(SB), NOSPLIT, $0-25
	MOVQ g_base+0(FP), SI
	MOVQ g_len+8(FP), CX
	VXORPD Y15, Y15, Y15
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	XORQ AX, AX
	TESTQ CX, CX
	JZ   finreduce

finloop:
	VMULPD (SI)(AX*8), Y15, Y4
	VMULPD 32(SI)(AX*8), Y15, Y5
	VMULPD 64(SI)(AX*8), Y15, Y6
	VMULPD 96(SI)(AX*8), Y15, Y7
	VADDPD Y4, Y0, Y0
	VADDPD Y5, Y1, Y1
	VADDPD Y6, Y2, Y2
	VADDPD Y7, Y3, Y3
	ADDQ $16, AX
	CMPQ AX, CX
	JLT  finloop

finreduce:
	VADDPD    Y1, Y0, Y0
	VADDPD    Y3, Y2, Y2
	VADDPD    Y2, Y0, Y0
	VCMPPD    $0, Y15, Y0, Y0 // lanes equal to 0 (false for NaN)
	VMOVMSKPD Y0, AX
	CMPL      AX, $15
	SETEQ     ret+24(FP)
	VZEROUPPER
	RET
