package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Shard is one of Count equal parts of an arrival schedule (`simlab load
// --shard Index/Count`, docs/load-distributed.md). Shard Index sends the
// arrivals i of the whole schedule with i % Count == Index, each at the
// intended time the whole schedule gives it, to its own part of the
// numbers; the Count shards together send exactly what one process running
// the whole schedule would. The zero Shard (and any Count of 1) is the whole
// schedule.
type Shard struct {
	Index, Count int
}

// MaxShards bounds Shard.Count: far more machines than a load needs, few
// enough that a shard's part of the numbers stays meaningful.
const MaxShards = 10_000

// ErrShard is wrapped by errors about a shard specification.
var ErrShard = errors.New("load: bad shard")

// ParseShard reads "I/N": shard I (0-based) of N.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Shard{}, fmt.Errorf("%w %q: want I/N, e.g. 0/3 for the first of three", ErrShard, s)
	}
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("%w %q: want I/N, two whole numbers", ErrShard, s)
	}
	sh := Shard{Index: i, Count: n}
	if err := sh.check(); err != nil {
		return Shard{}, err
	}
	return sh, nil
}

func (s Shard) check() error {
	if s.Count < 1 || s.Count > MaxShards {
		return fmt.Errorf("%w %s: the count must be between 1 and %d", ErrShard, s, MaxShards)
	}
	if s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("%w %s: the index must be between 0 and %d", ErrShard, s, s.Count-1)
	}
	return nil
}

// String is the "I/N" form.
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// step is the distance between two arrivals of the shard (1 for the whole
// schedule).
func (s Shard) step() int { return max(s.Count, 1) }

// lastArrival is the index of the shard's last arrival of a schedule of
// total arrivals, or -1 when it has none.
func (s Shard) lastArrival(total int) int {
	if total <= s.Index {
		return -1
	}
	return s.Index + s.step()*((total-1-s.Index)/s.step())
}

// Shard returns the part of ns that shard s uses: the numbers at positions
// s.Index, s.Index+s.Count, … of ns. No number is in two shards' parts, so
// no card is shared between two senders (their replay counters would
// collide). When s.Count divides ns.Len(), arrival i goes to the number
// it goes to in the whole run (At(i) of ns); otherwise the parts differ in
// length by one and arrival i goes to a number of its shard's part.
func (ns Numbers) Shard(s Shard) (Numbers, error) {
	if s.Count <= 1 {
		return ns, nil
	}
	if err := s.check(); err != nil {
		return Numbers{}, err
	}
	if n := ns.total(); n < s.Count {
		return Numbers{}, fmt.Errorf("%w: %d numbers cannot be split into %d shards without two sharing a phone", ErrNumbers, n, s.Count)
	}
	ns.part, ns.parts = s.Index, s.Count
	return ns, nil
}

// ErrBarrier is wrapped by errors of the start barrier.
var ErrBarrier = errors.New("load: start barrier")

// barrierPoll is how often AwaitBarrier looks for the other shards.
const barrierPoll = 100 * time.Millisecond

// AwaitBarrier lines up the shards of one run on a directory they share
// (`simlab load --barrier DIR`): shard s writes DIR/shard-I-of-N.ready
// holding the time it became ready, waits until every shard of the run has
// written its file, and returns the run's start: the latest of their ready
// times plus lead. Every shard reads the same files and so computes the
// same start; lead must cover how long the slowest shard takes to see the
// last file (its polling, a network file system's caching). A file of a run
// with another shard count fails it: the directory must be the run's own.
//
// While it waits a shard rewrites its file every barrierPoll with a beat
// counter under the ready time, and it counts another shard only once it
// has seen that shard's file change: the ready files of a run that died
// before any shard passed (a crash, a cancelled job) never change, so a
// re-run in the same directory is not started by them; each of its shards
// overwrites its own. No clocks are compared, so the shards' clocks need
// not agree for this. A file renamed over by its beat while it is read
// (gone, or a stale NFS handle) is a shard not seen that poll, not an
// error of the barrier.
//
// A shard that passes the barrier writes DIR/shard-I-of-N.started with the
// run's start; a shard of the run still waiting that finds it passes too,
// with that start (the passing shard may have stopped rewriting its file
// before the other saw it change). A shard arriving in a directory that
// holds one is refused: that run already started, and its ready files
// would start the new shards each on its own. No shard of a run can pass
// before every shard of it wrote its ready file, so a run never finds its
// own marker on arrival.
func AwaitBarrier(ctx context.Context, dir string, s Shard, lead time.Duration) (time.Time, error) {
	if err := s.check(); err != nil {
		return time.Time{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return time.Time{}, fmt.Errorf("%w: %v", ErrBarrier, err)
	}
	if err := earlierRun(dir); err != nil {
		return time.Time{}, err
	}
	name := filepath.Join(dir, fmt.Sprintf("shard-%d-of-%d.ready", s.Index, s.Count))
	ready := time.Now().UTC().Format(time.RFC3339Nano)
	beat := 0
	announce := func() error {
		beat++
		tmp := name + ".tmp"
		if err := os.WriteFile(tmp, fmt.Appendf(nil, "%s\n%d\n", ready, beat), 0o644); err != nil {
			return fmt.Errorf("%w: %v", ErrBarrier, err)
		}
		if err := os.Rename(tmp, name); err != nil {
			return fmt.Errorf("%w: %v", ErrBarrier, err)
		}
		return nil
	}
	if err := announce(); err != nil {
		return time.Time{}, err
	}
	tick := time.NewTicker(barrierPoll)
	defer tick.Stop()
	first := make(map[int]string, s.Count) // each other shard's file as first seen
	live := make([]bool, s.Count)          // shards seen rewriting their file
	live[s.Index] = true
	marker := filepath.Join(dir, fmt.Sprintf("shard-%d-of-%d.started", s.Index, s.Count))
	for {
		files, start, started, err := readBarrier(dir, s.Count)
		if err != nil {
			return time.Time{}, err
		}
		if started {
			return start, writeStarted(marker, start)
		}
		var latest time.Time
		var readErr error // of a ready file being replaced as it was read
		missing := 0
		for i, f := range files {
			if f.err != nil {
				readErr = f.err
			}
			switch {
			case !f.ok:
			case live[i]:
			case first[i] == "":
				first[i] = f.content
			case first[i] != f.content:
				live[i] = true
			}
			if !live[i] || !f.ok {
				missing++
			} else if f.ready.After(latest) {
				latest = f.ready
			}
		}
		if missing == 0 {
			start := latest.Add(lead)
			return start, writeStarted(marker, start)
		}
		select {
		case <-ctx.Done():
			if readErr != nil {
				return time.Time{}, fmt.Errorf("%w: %d of %d shards never became ready in %s (%v): %w", ErrBarrier, missing, s.Count, dir, readErr, ctx.Err())
			}
			return time.Time{}, fmt.Errorf("%w: %d of %d shards never became ready in %s: %w", ErrBarrier, missing, s.Count, dir, ctx.Err())
		case <-tick.C:
		}
		if err := announce(); err != nil {
			return time.Time{}, err
		}
	}
}

// writeStarted writes a shard's marker of the run's start.
func writeStarted(marker string, start time.Time) error {
	if err := os.WriteFile(marker, []byte(start.UTC().Format(time.RFC3339Nano)+"\n"), 0o644); err != nil {
		return fmt.Errorf("%w: %v", ErrBarrier, err)
	}
	return nil
}

// earlierRun fails when dir holds the marker of a run that already passed
// its barrier (shard-I-of-N.started), saying what to do.
func earlierRun(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBarrier, err)
	}
	for _, e := range ents {
		if _, _, ext, ok := barrierName(e.Name()); !ok || ext != "started" {
			continue
		}
		return fmt.Errorf("%w: %s is an earlier run's barrier (%s says it started): give each run a directory of its own, or empty this one first",
			ErrBarrier, dir, e.Name())
	}
	return nil
}

// barrierFile is what readBarrier found of one shard's ready file.
type barrierFile struct {
	ok      bool      // the file is there
	ready   time.Time // its ready time (first line)
	content string    // all of it, the beat counter included
	err     error     // why it could not be read this poll (replaced)
}

// replaced reports whether err is the error of reading a file that was
// renamed over meanwhile: gone (ENOENT) or, on NFS, a stale handle.
func replaced(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESTALE)
}

// barrierName parses the name of a barrier file, shard-I-of-N.ready or
// shard-I-of-N.started; ok is false for any other name (a .tmp file).
func barrierName(name string) (i, n int, ext string, ok bool) {
	if _, err := fmt.Sscanf(name, "shard-%d-of-%d.%s", &i, &n, &ext); err != nil || name != fmt.Sprintf("shard-%d-of-%d.%s", i, n, ext) {
		return 0, 0, "", false
	}
	return i, n, ext, ext == "ready" || ext == "started"
}

// readBarrier reads dir in one listing: the ready files by shard index of
// count, and the start a shard of this run that passed the barrier wrote
// in its marker, if one did (started).
func readBarrier(dir string, count int) (files []barrierFile, start time.Time, started bool, err error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, time.Time{}, false, fmt.Errorf("%w: %v", ErrBarrier, err)
	}
	files = make([]barrierFile, count)
	for _, e := range ents {
		i, n, ext, ok := barrierName(e.Name())
		path := filepath.Join(dir, e.Name())
		switch {
		case !ok:
			continue
		case ext == "started":
			if n != count || started {
				continue
			}
			b, err := readLimited(path, 128)
			if err != nil {
				return nil, time.Time{}, false, fmt.Errorf("%w: %v", ErrBarrier, err)
			}
			// Unparsable while being written (os.WriteFile truncates
			// first): the next poll.
			if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b))); err == nil {
				start, started = t, true
			}
			continue
		case n != count:
			return nil, time.Time{}, false, fmt.Errorf("%w: %s is a shard of a %d-shard run, this run has %d: give each run a directory of its own", ErrBarrier, path, n, count)
		case i < 0 || i >= count:
			continue
		}
		b, err := readLimited(path, 128)
		if replaced(err) {
			// Renamed over by its shard's beat between the listing and
			// the read (a network file system answers ESTALE): not seen
			// this poll.
			files[i] = barrierFile{err: err}
			continue
		}
		if err != nil {
			return nil, time.Time{}, false, fmt.Errorf("%w: %v", ErrBarrier, err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(line))
		if err != nil {
			return nil, time.Time{}, false, fmt.Errorf("%w: %s: not a ready time: %v", ErrBarrier, path, err)
		}
		files[i] = barrierFile{ok: true, ready: t, content: string(b)}
	}
	return files, start, started, nil
}

// readLimited reads the file at path, refusing one longer than limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return b, nil
}
