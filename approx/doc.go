// Package approx approximates a symmetric curvature matrix M (Hessian,
// generalized Gauss-Newton, Fisher, empirical Fisher, gradient covariance;
// see package curvature) by structured matrices M̃ that are cheap to store,
// multiply and invert, and measures how far they are from M.
package approx
