package watch

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"mime"
	"net/http"

	"google.golang.org/protobuf/encoding/protowire"
)

// The informer transform (trim) rebuilds each object from the few fields the timeline reads,
// but only after client-go decoded all of it: managedFields, volumes, env, images and probes are
// decoded into Go objects and garbage-collected moments later, for every pod change. trimWire
// drops those fields from the protobuf bytes before they are decoded, so they are never
// allocated. It keeps a superset of what trim keeps, so trim gives the same objects either way;
// anything it does not recognise (JSON, other kinds, errors, a malformed message) passes as it
// came.

// shape lists the fields of a protobuf message that are kept: a nil value keeps the field as it
// is, a non-nil one is the shape of the embedded message. Other fields are dropped.
type shape map[protowire.Number]shape

// keep marks a field kept as it is.
var keep shape

var (
	// ObjectMeta without managedFields (17), which is often most of a pod's metadata.
	wireMeta = shape{1: keep, 2: keep, 3: keep, 4: keep, 5: keep, 6: keep, 7: keep, 8: keep,
		9: keep, 10: keep, 11: keep, 12: keep, 13: keep, 14: keep}
	// Container: name, command, args, readinessProbe, lifecycle, restartPolicy (trimContainers).
	wireContainer = shape{1: keep, 3: keep, 4: keep, 11: keep, 12: keep, 24: keep}
	// ContainerStatus: name, state, ready (trimStatuses).
	wireContainerStatus = shape{1: keep, 2: keep, 4: keep}
	wirePod             = shape{
		1: wireMeta,
		// PodSpec: containers, terminationGracePeriodSeconds, nodeName, hostPID,
		// initContainers, shareProcessNamespace, readinessGates (trimPod).
		2: {2: wireContainer, 4: keep, 10: keep, 12: keep, 20: wireContainer, 27: keep, 28: keep},
		// PodStatus: phase, conditions, message, reason, podIP, containerStatuses,
		// initContainerStatuses.
		3: {1: keep, 2: keep, 3: keep, 4: keep, 6: keep, 8: wireContainerStatus, 10: wireContainerStatus},
	}
	// EndpointSlice: metadata, endpoints (conditions, targetRef's kind and uid), addressType
	// (trimSlice). A slice holds up to 100 endpoints and is sent whole whenever one changes.
	wireSlice = shape{1: wireMeta, 2: {2: keep, 4: {1: keep, 4: keep}}, 4: keep}

	// ReplicaSet and Deployment: metadata and spec.replicas, without the pod template; all of a
	// Deployment's status (trimReplicaSet, trimDeployment). They change with every pod of a
	// rollout.
	wireReplicaSet = shape{1: wireMeta, 2: {1: keep}}
	// A Deployment keeps its managedFields: who set spec.replicas (trimDeployment).
	wireDeployment = shape{1: withManagedFields(wireMeta), 2: {1: keep}, 3: keep}

	// wireKinds are the kinds trimmed, with their lists (ListMeta and items).
	wireKinds = map[string]shape{
		"Pod":               wirePod,
		"PodList":           {1: keep, 2: wirePod},
		"EndpointSlice":     wireSlice,
		"EndpointSliceList": {1: keep, 2: wireSlice},
		"ReplicaSet":        wireReplicaSet,
		"ReplicaSetList":    {1: keep, 2: wireReplicaSet},
		"Deployment":        wireDeployment,
		"DeploymentList":    {1: keep, 2: wireDeployment},
	}
)

// withManagedFields is a metadata shape that keeps managedFields (17) too.
func withManagedFields(meta shape) shape {
	s := shape{17: keep}
	for k, v := range meta {
		s[k] = v
	}
	return s
}

// protobufMagic starts every object in the Kubernetes protobuf envelope (runtime.Unknown).
var protobufMagic = []byte("k8s\x00")

// filterMessage appends b, a message of shape s, to out without the fields s does not keep.
func filterMessage(out, b []byte, s shape) ([]byte, bool) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return out, false
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return out, false
		}
		field := b[:n+m]
		b = b[n+m:]
		sub, kept := s[num]
		switch {
		case !kept:
		case sub == nil || typ != protowire.BytesType:
			out = append(out, field...)
		default:
			v, _ := protowire.ConsumeBytes(field[n:])
			out = protowire.AppendTag(out, num, protowire.BytesType)
			start := len(out)
			var ok bool
			if out, ok = filterMessage(out, v, sub); !ok {
				return out, false
			}
			out = prefixLength(out, start)
		}
	}
	return out, true
}

// prefixLength puts the varint length of out[start:] in front of it. Embedded messages are
// written in place at the end of the one buffer and get their length afterwards: no buffer per
// message.
func prefixLength(out []byte, start int) []byte {
	size := uint64(len(out) - start)
	w := protowire.SizeVarint(size)
	out = append(out, make([]byte, w)...)
	copy(out[start+w:], out[start:len(out)-w])
	protowire.AppendVarint(out[start:start], size)
	return out
}

// envelope returns the shape for an object in the protobuf envelope (magic, then
// runtime.Unknown: typeMeta 1 with kind 2, raw 2, contentEncoding 3), nil when it is not one
// trimWire trims.
func envelope(b []byte) shape {
	if !bytes.HasPrefix(b, protobufMagic) {
		return nil
	}
	var s shape
	for rest := b[len(protobufMagic):]; len(rest) > 0; {
		num, typ, n := protowire.ConsumeTag(rest)
		if n < 0 {
			return nil
		}
		m := protowire.ConsumeFieldValue(num, typ, rest[n:])
		if m < 0 {
			return nil
		}
		if typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(rest[n : n+m])
			switch {
			case num == 1:
				s = wireKinds[string(bytesField(v, 2))]
			case num == 3 && len(v) > 0:
				return nil // an encoded (e.g. compressed) object: not ours to read
			}
		}
		rest = rest[n+m:]
	}
	return s
}

// filterObject appends b, an object in the protobuf envelope, trimmed to out. It reports false
// (and out is to be discarded) when b is not an object it trims.
func filterObject(out, b []byte) ([]byte, bool) {
	s := envelope(b)
	if s == nil {
		return out, false
	}
	out = append(out, protobufMagic...)
	for rest := b[len(protobufMagic):]; len(rest) > 0; {
		num, typ, n := protowire.ConsumeTag(rest)
		m := protowire.ConsumeFieldValue(num, typ, rest[n:]) // envelope checked both
		if num == 2 && typ == protowire.BytesType {
			raw, _ := protowire.ConsumeBytes(rest[n : n+m])
			out = protowire.AppendTag(out, 2, protowire.BytesType)
			start := len(out)
			var ok bool
			if out, ok = filterMessage(out, raw, s); !ok {
				return out, false
			}
			out = prefixLength(out, start)
		} else {
			out = append(out, rest[:n+m]...)
		}
		rest = rest[n+m:]
	}
	return out, true
}

// bytesField returns the first length-delimited field num of message b (nil if none).
func bytesField(b []byte, num protowire.Number) []byte {
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return nil
		}
		m := protowire.ConsumeFieldValue(n, typ, b[l:])
		if m < 0 {
			return nil
		}
		if n == num && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(b[l : l+m])
			return v
		}
		b = b[l+m:]
	}
	return nil
}

// filterEvent appends b, one watch event (metav1.WatchEvent: type 1, object 2, a
// runtime.RawExtension whose raw 1 is the object in its envelope), to out with its object
// trimmed. It reports false (and out is to be discarded) when there is nothing to trim.
func filterEvent(out, b []byte) ([]byte, bool) {
	if envelope(bytesField(bytesField(b, 2), 1)) == nil {
		return out, false // checked first: most of what is not trimmed is not even parsed
	}
	for rest := b; len(rest) > 0; {
		num, typ, n := protowire.ConsumeTag(rest)
		if n < 0 {
			return out, false
		}
		m := protowire.ConsumeFieldValue(num, typ, rest[n:])
		if m < 0 {
			return out, false
		}
		if num == 2 && typ == protowire.BytesType {
			ext, _ := protowire.ConsumeBytes(rest[n : n+m])
			raw := bytesField(ext, 1)
			out = protowire.AppendTag(out, 2, protowire.BytesType)
			start := len(out)
			out = protowire.AppendTag(out, 1, protowire.BytesType)
			inner := len(out)
			var ok bool
			if out, ok = filterObject(out, raw); !ok {
				return out, false
			}
			out = prefixLength(prefixLength(out, inner), start)
		} else {
			out = append(out, rest[:n+m]...)
		}
		rest = rest[n+m:]
	}
	return out, true
}

// maxWireFrame bounds the watch frames trimWire reads whole; a larger one passes untouched.
const maxWireFrame = 16 << 20

// frameReader trims each frame of a protobuf watch stream (a 4-byte big-endian length, then
// a WatchEvent) as the decoder reads it.
type frameReader struct {
	body    io.ReadCloser
	frame   []byte // the frame as read
	out     []byte // the trimmed frame after its length
	pending []byte // what the decoder has not read of out yet
	passing int    // bytes of an oversized frame still to pass through untouched
}

func (f *frameReader) Read(p []byte) (int, error) {
	switch {
	case len(f.pending) > 0:
	case f.passing > 0:
		n, err := f.body.Read(p[:min(len(p), f.passing)])
		f.passing -= n
		return n, err
	default:
		var hdr [4]byte
		if _, err := io.ReadFull(f.body, hdr[:]); err != nil {
			return 0, err
		}
		size := int(binary.BigEndian.Uint32(hdr[:]))
		if size > maxWireFrame {
			f.pending, f.passing = append(f.out[:0], hdr[:]...), size
			break
		}
		if cap(f.frame) < size {
			f.frame = make([]byte, size)
		}
		f.frame = f.frame[:size]
		if _, err := io.ReadFull(f.body, f.frame); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		out, ok := filterEvent(append(f.out[:0], hdr[:]...), f.frame)
		if !ok {
			out = append(out[:len(hdr)], f.frame...)
		}
		binary.BigEndian.PutUint32(out, uint32(len(out)-len(hdr)))
		f.out, f.pending = out, out
	}
	n := copy(p, f.pending)
	f.pending = f.pending[n:]
	return n, nil
}

func (f *frameReader) Close() error { return f.body.Close() }

// trimWire is a rest.Config WrapTransport that trims the objects of wireKinds in protobuf
// responses to GET requests: watch streams frame by frame, lists whole (client-go reads a list
// whole anyway).
func trimWire(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(r)
		if err != nil || r.Method != http.MethodGet || resp.StatusCode != http.StatusOK {
			return resp, err
		}
		media, params, perr := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if perr != nil || media != "application/vnd.kubernetes.protobuf" {
			return resp, nil
		}
		switch params["stream"] {
		case "watch":
			resp.Body = &frameReader{body: resp.Body}
		case "":
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return nil, fmt.Errorf("reading the response: %w", err)
			}
			if out, ok := filterObject(make([]byte, 0, len(b)), b); ok {
				b = out
			}
			resp.Body = io.NopCloser(bytes.NewReader(b))
		default:
			return resp, nil
		}
		// The length changed.
		resp.ContentLength = -1
		resp.Header.Del("Content-Length")
		return resp, nil
	})
}
