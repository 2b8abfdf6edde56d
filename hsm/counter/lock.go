package counter

import (
	"errors"
	"fmt"

	"github.com/simlab-dev/simlab/internal/flock"
)

// lockFile takes an exclusive advisory lock on path, creating it, and
// returns the function that releases it (flock.Lock: flock(2) on unix, no
// lock elsewhere). Another holder gives ErrLocked.
func lockFile(path string) (func(), error) {
	unlock, err := flock.Lock(path, ErrLocked)
	if err != nil && !errors.Is(err, ErrLocked) {
		return nil, fmt.Errorf("counter: %w", err)
	}
	return unlock, err
}
