// Package phonestore keeps the emulated phones' records (fleet.Store) and
// the readers attached at run time in an embedded, pure-Go bbolt database
// (go.etcd.io/bbolt) under a data directory: what `simlab serve --data
// DIR` keeps of its phones across restarts and kill -9 (docs/fleet.md,
// "What is kept").
//
// Writes go through one committer goroutine that gathers every put and
// delete waiting at that moment into one bbolt transaction, one fsync
// (group commit); each caller is told once its write is on disk, which is
// when a phone may let its answer go. Reads see every write made before
// them, on disk or still queued.
//
// A damaged file is a clear error (ErrDamaged), never a crash: bbolt's
// panics and memory faults on a damaged or truncated file are caught and
// returned.
package phonestore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/simlab-dev/simlab/internal/groupcommit"
	"github.com/simlab-dev/simlab/simulator/fleet"
)

// FileName is the database file inside the directory Open is given.
const FileName = "phones.db"

// DefaultMaxBatch bounds how many writes share one commit.
const DefaultMaxBatch = 4096

// DefaultMaxBytes bounds the database file: about 6,000,000 records of
// phones that answered challenges (about 170 bytes each on disk, the
// B+tree included).
const DefaultMaxBytes = 1 << 30

// formatVersion is the file's layout (its buckets and keys); the records'
// own versions are the fleet's (fleet.ErrRecord).
const formatVersion = "1"

var (
	bucketMeta     = []byte("meta")     // "format" → formatVersion
	bucketPhones   = []byte("phones")   // msisdn → fleet record
	bucketListed   = []byte("listed")   // msisdn → nothing: phones the API changed
	bucketAttached = []byte("attached") // msisdn → attachment (simulator)
	keyFormat      = []byte("format")
)

// ErrClosed is returned by operations on a closed Store.
var ErrClosed = errors.New("phonestore: closed")

// ErrDamaged is wrapped by the errors of a damaged database file.
var ErrDamaged = errors.New("phonestore: the database file is damaged")

// Options tune a Store. The zero value gives the defaults.
type Options struct {
	// MaxBatch bounds how many writes share one commit (default
	// DefaultMaxBatch).
	MaxBatch int
	// MaxBytes bounds the file (default DefaultMaxBytes): a write that
	// would grow it beyond fails, and the phone's answer with it.
	MaxBytes int
}

// Store is a durable fleet.Store. It is safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string
	ops  chan *op
	quit chan struct{}
	done chan struct{}

	closeOnce sync.Once
	closeErr  error
	// gate orders writes before Close: a write holds it shared while it
	// queues, Close takes it exclusively before stopping the committer.
	gate   sync.RWMutex
	closed bool

	// qmu orders the queue as the overlay: a write takes it to update
	// the overlay and queue its op (the committer never takes it).
	qmu sync.Mutex
	// mu guards the overlay: the writes queued and not yet committed, by
	// bucket and key, so that a read sees them.
	mu      sync.Mutex
	overlay map[string]*queued
	seq     uint64
}

var _ fleet.Store = (*Store)(nil)

// queued is the last write of one key not yet committed.
type queued struct {
	seq     uint64
	val     []byte // nil: deleted
	listed  bool
	attach  bool // bucketAttached, not bucketPhones
	pending int  // ops of this key in the queue
}

// op is one write waiting for the committer.
type op struct {
	seq    uint64
	attach bool
	key    string
	val    []byte // nil: delete
	listed bool
	done   func(error)
}

// Open opens (creating it if needed) the store in directory dir. The file
// is locked: a second process opening it waits a second and then fails.
// A damaged file is an error wrapping ErrDamaged that names it.
func Open(dir string, opts Options) (s *Store, err error) {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("phonestore: %w", err)
	}
	path := filepath.Join(dir, FileName)
	if err := checkHeader(path); err != nil {
		return nil, err
	}
	defer catch(path, &err)
	defer guard()()
	// The freelist is synced (unlike the SMSC's store): bbolt rebuilds an
	// unsynced one on a goroutine where a damaged page cannot be caught.
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      time.Second,
		FreelistType: bolt.FreelistMapType,
		MaxSize:      opts.MaxBytes,
	})
	if err != nil {
		if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrVersionMismatch) {
			return nil, damaged(path, err)
		}
		return nil, fmt.Errorf("phonestore: open %s: %w", path, err)
	}
	if err := initialise(db, path); err != nil {
		db.Close()
		return nil, err
	}
	s = &Store{
		db:      db,
		path:    path,
		ops:     make(chan *op, opts.MaxBatch),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		overlay: map[string]*queued{},
	}
	go s.run(opts.MaxBatch)
	return s, nil
}

// initialise creates the buckets of a new file and checks the format of an
// existing one.
func initialise(db *bolt.DB, path string) (err error) {
	defer catch(path, &err)
	return db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			if tx.Bucket(bucketPhones) != nil {
				return damaged(path, errors.New("no format record"))
			}
			var err error
			if meta, err = tx.CreateBucket(bucketMeta); err != nil {
				return fmt.Errorf("phonestore: %w", err)
			}
			if err := meta.Put(keyFormat, []byte(formatVersion)); err != nil {
				return fmt.Errorf("phonestore: %w", err)
			}
		}
		if v := string(meta.Get(keyFormat)); v != formatVersion {
			return fmt.Errorf("phonestore: %s is in format %q; this simlab reads format %q (move the file aside to start afresh)", path, v, formatVersion)
		}
		for _, b := range [][]byte{bucketPhones, bucketListed, bucketAttached} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("phonestore: %w", err)
			}
		}
		return nil
	})
}

// damaged is the error of a damaged file, with the way out.
func damaged(path string, cause error) error {
	return fmt.Errorf("%w: %s: %v (move it aside, or delete it, to start with no phones kept)", ErrDamaged, path, cause)
}

// catch turns a panic or memory fault of bbolt on a damaged file into an
// error; it runs deferred by every operation that reads the file.
func catch(path string, err *error) {
	if r := recover(); r != nil {
		*err = damaged(path, fmt.Errorf("%v", r))
	}
}

// guard makes memory faults of the calling goroutine (a truncated file
// mapped in memory) panics that catch can take; the returned function
// restores the setting.
func guard() func() {
	old := debug.SetPanicOnFault(true)
	return func() { debug.SetPanicOnFault(old) }
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Durable implements fleet.Store: records are on disk when Put calls done.
func (s *Store) Durable() bool { return true }

// overlayKey names a key of one bucket in the overlay.
func overlayKey(attach bool, key string) string {
	if attach {
		return "a/" + key
	}
	return "p/" + key
}

// enqueue queues a write and records it in the overlay.
func (s *Store) enqueue(o *op) error {
	s.gate.RLock()
	defer s.gate.RUnlock()
	if s.closed {
		return ErrClosed
	}
	s.qmu.Lock()
	defer s.qmu.Unlock()
	s.mu.Lock()
	s.seq++
	o.seq = s.seq
	k := overlayKey(o.attach, o.key)
	q := s.overlay[k]
	if q == nil {
		q = &queued{attach: o.attach}
		s.overlay[k] = q
	}
	q.seq, q.val, q.listed = o.seq, o.val, o.listed
	q.pending++
	s.mu.Unlock()
	s.ops <- o // the committer runs until Close, which waits for the gate
	return nil
}

// Put implements fleet.Store: done is called once rec is on disk.
func (s *Store) Put(msisdn string, rec []byte, listed bool, done func(error)) {
	s.write(&op{key: msisdn, val: append(make([]byte, 0, len(rec)), rec...), listed: listed, done: done})
}

// Delete implements fleet.Store.
func (s *Store) Delete(msisdn string, done func(error)) {
	s.write(&op{key: msisdn, done: done})
}

func (s *Store) write(o *op) {
	if err := s.enqueue(o); err != nil && o.done != nil {
		o.done(err)
	}
}

// Get implements fleet.Store.
func (s *Store) Get(msisdn string) ([]byte, error) {
	return s.get(false, msisdn)
}

func (s *Store) get(attach bool, key string) (val []byte, err error) {
	s.mu.Lock()
	if q := s.overlay[overlayKey(attach, key)]; q != nil {
		v := q.val
		s.mu.Unlock()
		return v, nil // never changed in place: a new write brings a new slice
	}
	s.mu.Unlock()
	defer guard()()
	defer catch(s.path, &err)
	bucket := bucketPhones
	if attach {
		bucket = bucketAttached
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucket).Get([]byte(key)); v != nil {
			val = append(make([]byte, 0, len(v)), v...)
		}
		return nil
	})
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return nil, ErrClosed
	}
	return val, err
}

// Listed implements fleet.Store: the numbers whose record was last put
// listed.
func (s *Store) Listed() (out []string, err error) {
	set := map[string]bool{}
	if err := s.keys(bucketListed, func(k string, _ []byte) { set[k] = true }); err != nil {
		return nil, err
	}
	s.mu.Lock()
	for k, q := range s.overlay {
		if !q.attach {
			set[k[2:]] = q.val != nil && q.listed
		}
	}
	s.mu.Unlock()
	for k, on := range set {
		if on {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out, nil
}

// keys calls fn with every key and value of bucket b on disk.
func (s *Store) keys(b []byte, fn func(k string, v []byte)) (err error) {
	defer guard()()
	defer catch(s.path, &err)
	err = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(b).ForEach(func(k, v []byte) error {
			fn(string(k), v)
			return nil
		})
	})
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// Len returns how many phone records the store holds on disk.
func (s *Store) Len() (n int, err error) {
	return n, s.keys(bucketPhones, func(string, []byte) { n++ })
}

// PutAttachment keeps the registration of an attached reader (opaque to
// the store) for msisdn and returns once it is on disk.
func (s *Store) PutAttachment(msisdn string, v []byte) error {
	return s.wait(&op{attach: true, key: msisdn, val: append(make([]byte, 0, len(v)), v...)})
}

// DeleteAttachment forgets the registration of msisdn and returns once
// that is on disk.
func (s *Store) DeleteAttachment(msisdn string) error {
	return s.wait(&op{attach: true, key: msisdn})
}

// Attachments returns every registration kept, by number.
func (s *Store) Attachments() (map[string][]byte, error) {
	out := map[string][]byte{}
	if err := s.keys(bucketAttached, func(k string, v []byte) { out[k] = append([]byte(nil), v...) }); err != nil {
		return nil, err
	}
	s.mu.Lock()
	for k, q := range s.overlay {
		if q.attach {
			if q.val == nil {
				delete(out, k[2:])
			} else {
				out[k[2:]] = q.val
			}
		}
	}
	s.mu.Unlock()
	return out, nil
}

// wait queues o and waits until it is on disk.
func (s *Store) wait(o *op) error {
	ch := make(chan error, 1)
	o.done = func(err error) { ch <- err }
	if err := s.enqueue(o); err != nil {
		return err
	}
	return <-ch
}

// Close stops the committer after the writes already queued and closes
// the database.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.gate.Lock()
		s.closed = true
		s.gate.Unlock()
		close(s.quit)
		<-s.done
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

// run is the committer: it gathers the queued ops into one transaction
// (groupcommit.Run).
func (s *Store) run(maxBatch int) {
	defer close(s.done)
	defer guard()()
	groupcommit.Run(s.ops, s.quit, maxBatch, func(batch []*op) { s.finish(batch, s.commit(batch)) })
}

// commit writes batch in one transaction.
func (s *Store) commit(batch []*op) (err error) {
	defer catch(s.path, &err)
	return s.db.Update(func(tx *bolt.Tx) error {
		phones, listed, attached := tx.Bucket(bucketPhones), tx.Bucket(bucketListed), tx.Bucket(bucketAttached)
		for _, o := range batch {
			k := []byte(o.key)
			var err error
			switch {
			case o.attach && o.val == nil:
				err = attached.Delete(k)
			case o.attach:
				err = attached.Put(k, o.val)
			case o.val == nil:
				err = errors.Join(phones.Delete(k), listed.Delete(k))
			default:
				err = phones.Put(k, o.val)
				if o.listed {
					err = errors.Join(err, listed.Put(k, nil))
				} else {
					err = errors.Join(err, listed.Delete(k))
				}
			}
			if err != nil {
				return fmt.Errorf("phonestore: %w", err)
			}
		}
		return nil
	})
}

// finish clears the committed writes from the overlay (a write queued
// since stays) and tells their callers.
func (s *Store) finish(batch []*op, err error) {
	s.mu.Lock()
	for _, o := range batch {
		k := overlayKey(o.attach, o.key)
		if q := s.overlay[k]; q != nil {
			q.pending--
			if q.pending == 0 && err == nil {
				delete(s.overlay, k)
			}
		}
	}
	s.mu.Unlock()
	for _, o := range batch {
		if o.done != nil {
			o.done(err)
		}
	}
}

// Attachment returns the registration kept for msisdn, nil when none.
func (s *Store) Attachment(msisdn string) ([]byte, error) {
	return s.get(true, msisdn)
}
