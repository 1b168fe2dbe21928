//go:build !linux

package main

import "time"

const startPagesDelay = 5 * time.Second

// dropStartupPages does nothing here: the Linux version explains it.
func dropStartupPages() {}
