//go:build amd64 && !purego

#include "textflag.h"

// func rotateAVX2(x, y []float64, c, s float64)
//
// len(x) is a multiple of 4 and len(y) ≥ len(x). Four entries at a time:
// y ← s·x + c·y and x ← c·x − s·y, from the old x and y.
TEXT ·rotateAVX2(SB), NOSPLIT, $0-64
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	MOVQ y_base+24(FP), DI
	VBROADCASTSD c+48(FP), Y0
	VBROADCASTSD s+56(FP), Y1
	XORQ AX, AX
	TESTQ CX, CX
	JZ   done

loop:
	VMOVUPD (SI)(AX*8), Y2
	VMOVUPD (DI)(AX*8), Y3
	VMULPD  Y2, Y1, Y4       // s·x
	VFMADD231PD Y3, Y0, Y4   // + c·y
	VMULPD  Y2, Y0, Y5       // c·x
	VFNMADD231PD Y3, Y1, Y5  // − s·y
	VMOVUPD Y4, (DI)(AX*8)
	VMOVUPD Y5, (SI)(AX*8)
	ADDQ $4, AX
	CMPQ AX, CX
	JLT  loop

done:
	VZEROUPPER
	RET
