package watch

import (
	"testing"
)

func TestPodsOfOneTemplateShareTheirParts(t *testing.T) {
	a, b, other := fullPod(), fullPod(), fullPod()
	b.Name, b.UID = "web-abc-2", "uid-2"
	other.Name, other.UID = "web-abc-3", "uid-3"
	other.Spec.Containers[0].Args = []string{"--port=9090"}
	other.Labels = map[string]string{"app": "web", "pod-template-hash": "def"}
	want := mustJSON(t, trimPod(fullPod()))

	ta, tb, to := trimPod(a), trimPod(b), trimPod(other)
	if got := mustJSON(t, ta); string(got) != string(want) {
		t.Fatalf("a shared pod reads differently:\n%s\nwant:\n%s", got, want)
	}
	if &ta.Spec.Containers[0] != &tb.Spec.Containers[0] || &ta.Spec.InitContainers[0] != &tb.Spec.InitContainers[0] {
		t.Error("two pods with the same containers hold a copy each")
	}
	if &ta.OwnerReferences[0] != &tb.OwnerReferences[0] {
		t.Error("two pods with the same owner hold a copy of the reference each")
	}
	ta.Labels["probe"] = "x" // the test's own write, only to see whether the map is the same
	if tb.Labels["probe"] != "x" {
		t.Error("two pods with the same labels hold a copy each")
	}
	delete(ta.Labels, "probe")

	if &to.Spec.Containers[0] == &ta.Spec.Containers[0] || to.Spec.Containers[0].Args[0] != "--port=9090" {
		t.Errorf("a pod with other containers got %+v", to.Spec.Containers[0])
	}
	if to.Labels["pod-template-hash"] != "def" || ta.Labels["pod-template-hash"] != "abc" {
		t.Errorf("labels mixed up: %v and %v", to.Labels, ta.Labels)
	}
}

func TestSharingForgetsAtItsBound(t *testing.T) {
	s := newSharing(func(a, b int) bool { return a == b })
	for i := range maxShared + 10 {
		s.share(uint64(i), i)
	}
	if n := len(s.known); n > maxShared {
		t.Errorf("%d parts remembered, want at most %d", n, maxShared)
	}
	// A part whose hash is another's, but not equal to it, is not shared and does not replace it.
	if got := s.share(maxShared, 1000); got != 1000 || s.known[maxShared] != maxShared {
		t.Errorf("an unequal part with a known hash: got %d, remembered %d", got, s.known[maxShared])
	}
}
