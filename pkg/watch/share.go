package watch

import (
	"hash/maphash"
	"maps"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The pods of one ReplicaSet (or DaemonSet, Job, StatefulSet revision) carry the same labels,
// owner reference and containers, and the informer keeps a copy of each per pod: together about
// a third of a cached pod (BenchmarkRetainedPerPod). trimPod lets pods share one copy of each.
// Nothing writes to the informer's objects, so a shared part is as good as a copy.

// maxShared bounds the parts of each kind remembered for sharing. When it is reached they are
// all forgotten: the pods keep what they hold, and sharing starts again with the next ones.
const maxShared = 4096

// sharing remembers parts of objects by a hash of their content; share returns an equal part
// already remembered, or remembers the one given.
type sharing[T any] struct {
	mu    sync.Mutex
	equal func(a, b T) bool
	known map[uint64]T
}

func newSharing[T any](equal func(a, b T) bool) *sharing[T] {
	return &sharing[T]{equal: equal, known: map[uint64]T{}}
}

func (s *sharing[T]) share(h uint64, v T) T {
	s.mu.Lock()
	defer s.mu.Unlock()
	if known, ok := s.known[h]; ok {
		if s.equal(known, v) {
			return known
		}
		return v // another part with the same hash: not shared
	}
	if len(s.known) >= maxShared {
		clear(s.known)
	}
	s.known[h] = v
	return v
}

var (
	seed         = maphash.MakeSeed()
	sharedLabels = newSharing(maps.Equal[map[string]string])
	sharedOwners = newSharing(func(a, b []metav1.OwnerReference) bool {
		return slices.EqualFunc(a, b, sameOwnerRef)
	})
	sharedContainers = newSharing(func(a, b []corev1.Container) bool {
		return slices.EqualFunc(a, b, sameContainer)
	})
)

func shareLabels(m map[string]string) map[string]string {
	if len(m) == 0 {
		return m
	}
	// The sum of the pairs' hashes does not depend on the order the map is walked in.
	var h uint64
	for k, v := range m {
		h += maphash.Comparable(seed, [2]string{k, v})
	}
	return sharedLabels.share(h, m)
}

func shareOwners(refs []metav1.OwnerReference) []metav1.OwnerReference {
	return shareSlice(sharedOwners, refs, func(d *maphash.Hash, r *metav1.OwnerReference) {
		d.WriteString(string(r.UID))
		d.WriteString(r.Name)
	})
}

// shareContainers hashes what tells containers apart most often; equal hashes are compared in
// full (sameContainer).
func shareContainers(cs []corev1.Container) []corev1.Container {
	return shareSlice(sharedContainers, cs, func(d *maphash.Hash, c *corev1.Container) {
		d.WriteString(c.Name)
		for _, s := range c.Command {
			d.WriteString(s)
		}
		d.WriteByte(0)
		for _, s := range c.Args {
			d.WriteString(s)
		}
		d.WriteByte(0)
	})
}

// shareSlice shares v through s, hashing its elements in order with write.
func shareSlice[T any](s *sharing[[]T], v []T, write func(*maphash.Hash, *T)) []T {
	if len(v) == 0 {
		return v
	}
	var d maphash.Hash
	d.SetSeed(seed)
	for i := range v {
		write(&d, &v[i])
	}
	return s.share(d.Sum64(), v)
}
