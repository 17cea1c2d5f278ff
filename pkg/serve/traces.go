package serve

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/drainwatch/kubectl-drainwatch/pkg/timeline"
)

// SpanName is the name of every span: one pod's termination.
const SpanName = "k8s.pod.termination"

// Traces exports each finished termination as one span. The spans of one operation (a rollout
// away from one revision, one scale-down, one node's drain) share a trace whose ID is derived
// from the operation, and each span's ID from the pod's UID: replicas that take over from each
// other put their spans into the same trace, and a span exported twice keeps its ID.
type Traces struct {
	tp     *sdktrace.TracerProvider
	tracer trace.Tracer
}

// OTLPConfig says where traces go. Endpoint is a base URL as OTEL_EXPORTER_OTLP_ENDPOINT
// ("/v1/traces" is appended); empty means the OTEL_EXPORTER_OTLP_* variables decide.
type OTLPConfig struct {
	Endpoint string
	Version  string
}

// TracesWanted says whether traces are asked for: an endpoint flag, or the standard
// OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT variables, unless OTEL_TRACES_EXPORTER is "none".
func TracesWanted(endpoint string) bool {
	if os.Getenv("OTEL_TRACES_EXPORTER") == "none" {
		return false
	}
	return endpoint != "" || os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// CheckOTLP validates the endpoint and the protocol variables before anything starts: only
// OTLP over HTTP (http/protobuf) is spoken.
func CheckOTLP(endpoint string) error {
	for _, v := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := os.Getenv(v); p != "" && p != "http/protobuf" {
			return fmt.Errorf("%s=%s is not supported: drainwatch sends OTLP over HTTP (http/protobuf); point it at the collector's HTTP port (4318)", v, p)
		}
	}
	if endpoint == "" {
		return nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--otlp-endpoint %q is not an http:// or https:// URL (e.g. http://otel-collector:4318)", endpoint)
	}
	return nil
}

// NewOTLPTraces exports over OTLP/HTTP in batches.
func NewOTLPTraces(ctx context.Context, cfg OTLPConfig) (*Traces, error) {
	if err := CheckOTLP(cfg.Endpoint); err != nil {
		return nil, err
	}
	var opts []otlptracehttp.Option
	if cfg.Endpoint != "" {
		u, _ := url.Parse(cfg.Endpoint)
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
		opts = append(opts, otlptracehttp.WithEndpointURL(u.String()))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("OTLP exporter: %w", err)
	}
	return NewTraces(sdktrace.WithBatcher(exp), cfg.Version), nil
}

// NewTraces exports through the given span processor option (tests pass a syncer).
func NewTraces(exporter sdktrace.TracerProviderOption, version string) *Traces {
	res, err := resource.Merge(resource.Default(), resource.NewWithAttributes(semconv.SchemaURL,
		semconv.ServiceName("kubectl-drainwatch"), semconv.ServiceVersion(version)))
	if err != nil {
		res = resource.Default()
	}
	// Variables (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) win over the defaults above.
	if env, err := resource.New(context.Background(), resource.WithFromEnv()); err == nil {
		if m, err := resource.Merge(res, env); err == nil {
			res = m
		}
	}
	tp := sdktrace.NewTracerProvider(exporter, sdktrace.WithResource(res),
		sdktrace.WithIDGenerator(operationIDs{}), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	return &Traces{tp: tp, tracer: tp.Tracer("github.com/drainwatch/kubectl-drainwatch/pkg/serve")}
}

// Timeline exports one finished termination as a span of its operation's trace.
func (t *Traces) Timeline(tl timeline.PodTimeline) {
	op := OperationOf(&tl)
	ctx := context.WithValue(context.Background(), idsKey{}, ids{traceID: op.TraceID(), spanID: spanIDOf(tl.UID)})
	end := tl.EndAt(tl.Start)
	_, span := t.tracer.Start(ctx, SpanName, trace.WithTimestamp(tl.Start), trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(spanAttributes(&tl, op)...))
	for _, m := range tl.Marks {
		span.AddEvent(string(m.Type), trace.WithTimestamp(m.Time), trace.WithAttributes(markAttributes(m)...))
	}
	switch tl.Verdict {
	case timeline.VerdictFailed, timeline.VerdictKilled:
		span.SetStatus(codes.Error, string(tl.Verdict))
	}
	span.End(trace.WithTimestamp(end))
}

// Shutdown sends what is still queued, waiting as long as ctx allows.
func (t *Traces) Shutdown(ctx context.Context) error {
	return errors.Join(t.tp.ForceFlush(ctx), t.tp.Shutdown(ctx))
}

// Operation is what a termination was part of; its Key names it across replicas and restarts.
type Operation struct {
	// Kind is rollout, scale-down, drain or deletion.
	Kind string
	// Name says it for people, e.g. "rollout of Deployment shop/web from ReplicaSet web-5d4f".
	Name string
	Key  string
}

// Operation kinds.
const (
	OpRollout   = "rollout"
	OpScaleDown = "scale-down"
	OpDrain     = "drain"
	OpDeletion  = "deletion"
)

// TraceID is the operation's trace: the first 16 bytes of its key's SHA-256.
func (o Operation) TraceID() trace.TraceID {
	var id trace.TraceID
	sum := sha256.Sum256([]byte(o.Key))
	copy(id[:], sum[:])
	return id
}

// OperationOf groups a termination: a drain by node and cordon time; a scale-down by its
// ReplicaSet and replica counts; a rollout (or other deletions) by the ReplicaSet it retires;
// pods of other owners by owner and the hour their deletion started; a pod without an owner is an
// operation of its own.
func OperationOf(tl *timeline.PodTimeline) Operation {
	in := tl.Initiator
	if in != nil && in.Cordon != nil {
		c := in.Cordon
		return Operation{Kind: OpDrain, Name: "drain of node " + c.Node,
			Key: "drain/" + c.Node + "/" + strconv.FormatInt(c.Time.Unix(), 10)}
	}
	kind, name := tl.OwnerOf()
	if in != nil && in.Scale != nil && !in.Scale.Rollout {
		s := in.Scale
		return Operation{Kind: OpScaleDown,
			Name: fmt.Sprintf("scale-down of %s %s/%s from %d to %d", kind, tl.Namespace, name, s.From, s.To),
			Key:  fmt.Sprintf("scale/%s/%s/%d/%d", tl.Namespace, s.ReplicaSet, s.From, s.To)}
	}
	if tl.Owner == nil {
		return Operation{Kind: OpDeletion, Name: "deletion of pod " + tl.Namespace + "/" + tl.Name, Key: "pod/" + tl.UID}
	}
	o := tl.Owner
	op := Operation{Kind: OpDeletion, Name: "terminations of"}
	if in != nil && in.Scale != nil && in.Scale.Rollout {
		op = Operation{Kind: OpRollout, Name: "rollout of"}
	}
	if o.Kind == "ReplicaSet" {
		// A ReplicaSet is one revision of its Deployment: its name is the same on every replica,
		// whether or not the ReplicaSet itself was seen.
		op.Name += fmt.Sprintf(" %s %s/%s from ReplicaSet %s", kind, tl.Namespace, name, o.Name)
		op.Key = fmt.Sprintf("owner/%s/ReplicaSet/%s", tl.Namespace, o.Name)
		return op
	}
	// Other owners show no revision in the timeline: their terminations are grouped by the hour
	// the deletion started in.
	hour := tl.Start.UTC().Truncate(time.Hour)
	op.Name += fmt.Sprintf(" %s %s/%s from %s", o.Kind, tl.Namespace, o.Name, hour.Format("2006-01-02 15:00 UTC"))
	op.Key = fmt.Sprintf("owner/%s/%s/%s/%d", tl.Namespace, o.Kind, o.Name, hour.Unix())
	return op
}

func spanIDOf(uid string) trace.SpanID {
	var id trace.SpanID
	sum := sha256.Sum256([]byte("pod/" + uid))
	copy(id[:], sum[:])
	return id
}

// ownerAttributes follows the semantic conventions for Kubernetes resources: each workload
// kind has its own name attribute.
var ownerAttributes = map[string]func(string) attribute.KeyValue{
	"ReplicaSet":  semconv.K8SReplicaSetName,
	"Deployment":  semconv.K8SDeploymentName,
	"StatefulSet": semconv.K8SStatefulSetName,
	"DaemonSet":   semconv.K8SDaemonSetName,
	"Job":         semconv.K8SJobName,
}

func spanAttributes(tl *timeline.PodTimeline, op Operation) []attribute.KeyValue {
	a := []attribute.KeyValue{
		semconv.K8SNamespaceName(tl.Namespace), semconv.K8SPodName(tl.Name), semconv.K8SPodUID(tl.UID),
		attribute.String("drainwatch.operation", op.Kind), attribute.String("drainwatch.operation.name", op.Name),
		attribute.String("drainwatch.verdict", string(tl.Verdict)),
	}
	if tl.Node != "" {
		a = append(a, semconv.K8SNodeName(tl.Node))
	}
	if o := tl.Owner; o != nil {
		if f := ownerAttributes[o.Kind]; f != nil {
			a = append(a, f(o.Name))
		}
		if c := o.Controller; c != nil && ownerAttributes[c.Kind] != nil {
			a = append(a, ownerAttributes[c.Kind](c.Name))
		}
	}
	kind, name := tl.OwnerOf()
	a = append(a, attribute.String("drainwatch.owner.kind", kind), attribute.String("drainwatch.owner.name", name))
	str := func(k, v string) {
		if v != "" {
			a = append(a, attribute.String(k, v))
		}
	}
	num := func(k string, v *float64) {
		if v != nil {
			a = append(a, attribute.Float64(k, *v))
		}
	}
	str("drainwatch.cause", tl.Cause)
	str("drainwatch.reason", tl.Reason)
	if in := tl.Initiator; in != nil {
		str("drainwatch.initiator.by", in.By)
		str("drainwatch.initiator.via", in.Via)
	}
	if len(tl.Services) > 0 {
		a = append(a, attribute.StringSlice("drainwatch.services", tl.Services))
	}
	if len(tl.Findings) > 0 {
		ids, causes := make([]string, len(tl.Findings)), make([]string, len(tl.Findings))
		for i, f := range tl.Findings {
			ids[i], causes[i] = string(f.ID), f.Cause
		}
		// Two lists of the same length: finding i has cause i ("" when none was decided).
		a = append(a, attribute.StringSlice("drainwatch.findings", ids), attribute.StringSlice("drainwatch.finding_causes", causes))
	}
	if tl.GracePeriodSeconds != nil {
		a = append(a, attribute.Int64("drainwatch.grace_period_seconds", *tl.GracePeriodSeconds))
	}
	num("drainwatch.shutdown_seconds", tl.ShutdownSeconds)
	if tl.DrainBudgetSeconds > 0 {
		a = append(a, attribute.Float64("drainwatch.drain_budget_seconds", tl.DrainBudgetSeconds))
	}
	if mg, ok := tl.DrainMargin(); ok {
		a = append(a, attribute.Float64("drainwatch.drain_margin_seconds", mg))
	}
	if tl.JoinedMidway {
		a = append(a, attribute.Bool("drainwatch.joined_midway", true))
	}
	if len(tl.Partial) > 0 {
		a = append(a, attribute.StringSlice("drainwatch.partial", tl.Partial))
	}
	return a
}

func markAttributes(m timeline.Mark) []attribute.KeyValue {
	a := []attribute.KeyValue{attribute.String("drainwatch.source", m.Source)}
	if m.Estimated {
		a = append(a, attribute.Bool("drainwatch.estimated", true))
	}
	if m.Container != "" {
		a = append(a, semconv.K8SContainerName(m.Container))
	}
	if m.Service != "" {
		a = append(a, attribute.String("drainwatch.service", m.Service))
	}
	if m.ExitCode != nil {
		a = append(a, attribute.Int("drainwatch.exit_code", int(*m.ExitCode)))
	}
	if m.Reason != "" {
		a = append(a, attribute.String("drainwatch.reason", m.Reason))
	}
	if m.Detail != "" {
		a = append(a, attribute.String("drainwatch.detail", m.Detail))
	}
	return a
}

// ids are the trace and span IDs a span is started with.
type ids struct {
	traceID trace.TraceID
	spanID  trace.SpanID
}

type idsKey struct{}

// operationIDs gives a root span the IDs its context carries (random ones otherwise).
type operationIDs struct{}

func (operationIDs) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	if v, ok := ctx.Value(idsKey{}).(ids); ok {
		return v.traceID, v.spanID
	}
	var t trace.TraceID
	_, _ = rand.Read(t[:])
	return t, operationIDs{}.NewSpanID(ctx, t)
}

func (operationIDs) NewSpanID(ctx context.Context, _ trace.TraceID) trace.SpanID {
	if v, ok := ctx.Value(idsKey{}).(ids); ok {
		return v.spanID
	}
	var s trace.SpanID
	_, _ = rand.Read(s[:])
	return s
}
