// Package rawio reads and writes non-blocking file descriptors (pipes,
// sockets) with system calls the Go scheduler is not told of.
//
// A read or write through [os.File] or [net.Conn] enters the runtime's
// system-call state, and when every thread of the process was idle before,
// entering it wakes the runtime's monitor thread (sysmon) with a futex
// call: a cross-CPU wake-up on every message the bridge relays, a few
// microseconds each on a virtual machine. A read or write of a
// non-blocking descriptor never waits, so it need not enter that state;
// waiting for the descriptor to be ready still goes through the runtime's
// network poller, with deadlines, as before.
//
// On systems other than Linux the functions return what they are given.
package rawio
