package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
)

// cacheRoot returns the directory caching binary sets:
// $XDG_CACHE_HOME/osk/sandbox, falling back to ~/.cache/osk/sandbox.
func cacheRoot() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("locating the cache directory: %w", err)
	}
	return filepath.Join(dir, "osk", "sandbox"), nil
}

// StateDir returns the directory of the named sandbox started by "osk
// sandbox up": $XDG_STATE_HOME/osk/sandbox/<name>, falling back to
// ~/.local/state/osk/sandbox/<name>.
func StateDir(name string) (string, error) {
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
		return "", fmt.Errorf("invalid sandbox name %q", name)
	}
	root := os.Getenv("XDG_STATE_HOME")
	if !filepath.IsAbs(root) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("locating the state directory: %w", err)
		}
		root = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(root, "osk", "sandbox", name), nil
}
