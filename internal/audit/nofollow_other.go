//go:build !unix

package audit

// noFollow is 0 where the open cannot refuse symbolic links; the Lstat
// check before it does.
const noFollow = 0
