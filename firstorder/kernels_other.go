//go:build !amd64 || purego

package firstorder

func sgdMomentum(x, g, b []float64, mom, c, nlr float64) { sgdMomentumGo(x, g, b, mom, c, nlr) }

func adam(x, g, m, v []float64, k *adamCoef) { adamGo(x, g, m, v, k) }
