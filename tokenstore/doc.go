// Package tokenstore keeps credentials at rest, as opaque values under
// string keys, and owns everything around them that several processes
// share: which backend holds the values, a lock per key across processes,
// notice of changes made by another process, and a non-secret index. It
// knows nothing of OAuth: the caller decides what a value holds (and
// keeps a client registration and its tokens as separate values, since an
// item of the Windows Credential Manager holds at most 2560 bytes).
//
// [Open] returns a [Store] on one of three backends, each a [Backend]:
// [Keychain] (the OS keychain), [File] (0600 files) or [Memory].
//
// # Where credentials live
//
// With the keychain backend, through github.com/zalando/go-keyring, each
// value is an item of service [Service] ("mcp-bridge") whose account is
// the key:
//
//   - macOS: a generic password in the login keychain, service
//     "mcp-bridge", account KEY (Keychain Access, or
//     `security find-generic-password -s mcp-bridge -a KEY`).
//   - Windows: a generic credential "mcp-bridge:KEY" in the Credential
//     Manager (Control Panel, or `cmdkey /list:mcp-bridge:*`).
//   - Linux and the BSDs: an item of the Secret Service's login (else
//     default) collection with the attributes service=mcp-bridge and
//     username=KEY (Seahorse, or
//     `secret-tool lookup service mcp-bridge username KEY`). It needs a
//     D-Bus session bus and a running, unlocked Secret Service such as
//     gnome-keyring; without a session bus the keychain counts as
//     unreachable (go-keyring would otherwise run dbus-launch).
//
// A value longer than 2560 bytes is split across several items: KEY, then
// KEY#GEN.1, KEY#GEN.2 … (see [Keychain]).
//
// With the file backend, each value is a plaintext file DIR/KEY.json of
// mode 0600 in a directory of mode 0700, replaced atomically, protected
// only by file permissions. The bridge chooses DIR as
// os.UserConfigDir()/mcp-bridge/credentials: ~/.config/mcp-bridge/credentials
// on Linux ($XDG_CONFIG_HOME if set), ~/Library/Application
// Support/mcp-bridge/credentials on macOS, %AppData%\mcp-bridge\credentials
// on Windows.
//
// With the memory backend, values stay in the process: nothing is kept.
//
// # What else is in DIR
//
// Whatever the backend (except memory), DIR also holds what is not
// secret: DIR/locks/KEY.lock, the lock files of [Store.Lock] (never
// removed: removing a lock file while another process waits on it would
// let two processes hold "the" lock); DIR/changes/KEY, a marker rewritten
// on every [Store.Set] and [Store.Delete], which [Store.Watch] watches;
// and DIR/index.json, the index of [Store.SetIndex]. For that reason the
// key "index" is reserved.
package tokenstore
