// Command informer is the floor of the scale benchmark: plain client-go shared informers on the
// resources drainwatch watches (pods, EndpointSlices, Events of one namespace and, for a
// Deployment, the Deployment and its ReplicaSets), with no-op handlers and no transforms.
// Whatever drainwatch costs beyond this program is its own.
//
//	informer -kubeconfig K -n NS [-pod-selector SEL] [-event-selector SEL]... [-slice-selector SEL] [-deployment NAME]
//
// Each -event-selector runs one Events informer; -drainwatch-events runs the one drainwatch
// runs (Events about pods, without the common reasons the timeline never reads). -deployment
// adds what drainwatch watches for deploy/NAME: that Deployment, by name, and the ReplicaSets
// with the pod selector's labels (-deployment '*': every Deployment and ReplicaSet).
//
// It prints "synced" on stderr once every cache has its initial list, then runs until SIGINT or
// SIGTERM. With -stamps FILE (a diagnostic, not the floor) the pod handlers keep the receive
// time of every pod change and write them to FILE at the end, in the format of a drainwatch
// recording, so the receive lag of a bare informer can be compared with drainwatch's.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/drainwatch/kubectl-drainwatch/pkg/watch"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig file")
	namespace := flag.String("n", "default", "namespace to watch")
	podSel := flag.String("pod-selector", "", "label selector for pods (empty: every pod of the namespace)")
	var eventSel selectors
	flag.Var(&eventSel, "event-selector", "field selector for events, one informer each; repeatable (none: every event of the namespace)")
	sliceSel := flag.String("slice-selector", "", "label selector for EndpointSlices (empty: all)")
	deployment := flag.String("deployment", "", "also watch this Deployment and the ReplicaSets with the pod selector's labels ('*': all of both)")
	dwEvents := flag.Bool("drainwatch-events", false, "add drainwatch's Events informer: about pods, without the common reasons it never reads")
	useJSON := flag.Bool("json", false, "read JSON instead of protobuf (drainwatch reads protobuf)")
	stamps := flag.String("stamps", "", "write the receive time of every pod change here at the end (diagnostic)")
	flag.Parse()
	if *dwEvents {
		eventSel = append(eventSel, watch.PodEventsSelector())
	}
	if len(eventSel) == 0 {
		eventSel = selectors{""}
	}
	if err := run(*kubeconfig, *namespace, *podSel, eventSel, *sliceSel, *deployment, *useJSON, *stamps); err != nil {
		fmt.Fprintln(os.Stderr, "informer:", err)
		os.Exit(1)
	}
}

// selectors collects the values of a repeated flag.
type selectors []string

func (s *selectors) String() string     { return fmt.Sprint(*s) }
func (s *selectors) Set(v string) error { *s = append(*s, v); return nil }

func run(kubeconfig, namespace, podSel string, eventSel []string, sliceSel, deployment string, useJSON bool, stamps string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	// The same wire format and client rate limits as drainwatch, so the comparison is about
	// what each program does with the objects, not how they are fetched.
	if !useJSON {
		cfg.ContentType = "application/vnd.kubernetes.protobuf"
		cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	}
	cfg.QPS, cfg.Burst = 50, 100
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	start := time.Now()
	factory := func(label, field string) informers.SharedInformerFactory {
		return informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(namespace),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) {
				o.LabelSelector, o.FieldSelector = label, field
			}))
	}
	noop := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) {},
		UpdateFunc: func(any, any) {},
		DeleteFunc: func(any) {},
	}
	pods := factory(podSel, "")
	slices := factory(sliceSel, "")
	factories := []informers.SharedInformerFactory{pods, slices}
	infs := []cache.SharedIndexInformer{pods.Core().V1().Pods().Informer(), slices.Discovery().V1().EndpointSlices().Informer()}
	for _, sel := range eventSel {
		events := factory("", sel)
		factories = append(factories, events)
		infs = append(infs, events.Core().V1().Events().Informer())
	}
	if deployment != "" {
		name := ""
		if deployment != "*" {
			name = fields.OneTermEqualSelector("metadata.name", deployment).String()
		}
		deploys, sets := factory("", name), factory(podSel, "")
		factories = append(factories, deploys, sets)
		infs = append(infs, deploys.Apps().V1().Deployments().Informer(), sets.Apps().V1().ReplicaSets().Informer())
	}
	var seen stampLog
	var synced []cache.InformerSynced
	for i, inf := range infs {
		h := cache.ResourceEventHandler(noop)
		if i == 0 && stamps != "" {
			h = seen.handler()
		}
		reg, err := inf.AddEventHandler(h)
		if err != nil {
			return err
		}
		synced = append(synced, reg.HasSynced)
	}
	for _, f := range factories {
		f.Start(ctx.Done())
	}
	// cache.WaitForCacheSync polls every 100 ms; poll as often as drainwatch does so that the
	// time to the first output compares fairly.
	for !allSynced(synced) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("caches did not sync")
		case <-time.After(10 * time.Millisecond):
		}
	}
	fmt.Fprintf(os.Stderr, "synced in %s\n", time.Since(start).Round(time.Millisecond))
	<-ctx.Done()
	for _, f := range factories {
		f.Shutdown()
	}
	if stamps != "" {
		return seen.write(stamps)
	}
	return nil
}

// stampLog keeps the receive time and resourceVersion of every pod change.
type stampLog struct {
	mu    sync.Mutex
	items []stamp
}

type stamp struct {
	t    time.Time
	typ  string
	rv   string
	name string
}

func (l *stampLog) add(typ string, obj any) {
	t := time.Now()
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	l.mu.Lock()
	l.items = append(l.items, stamp{t: t, typ: typ, rv: pod.ResourceVersion, name: pod.Name})
	l.mu.Unlock()
}

func (l *stampLog) handler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { l.add("ADDED", obj) },
		UpdateFunc: func(_, obj any) { l.add("MODIFIED", obj) },
		DeleteFunc: func(obj any) { l.add("DELETED", obj) },
	}
}

// write writes the stamps as the lines of a drainwatch recording (without its header).
func (l *stampLog) write(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.items {
		b, _ := json.Marshal(map[string]any{"t": s.t, "type": s.typ, "kind": "Pod",
			"object": map[string]any{"metadata": map[string]string{"name": s.name, "resourceVersion": s.rv}}})
		w.Write(append(b, '\n'))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func allSynced(synced []cache.InformerSynced) bool {
	for _, s := range synced {
		if !s() {
			return false
		}
	}
	return true
}
