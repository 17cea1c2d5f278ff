package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/pager"
)

func clientFor(kubeconfig string, qps float32) (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.QPS, cfg.Burst = qps, int(qps)
	return kubernetes.NewForConfig(cfg)
}

// podsCmd creates -count bare pods spread over the kwok nodes, bound directly (no scheduler):
// the pods that share the namespace with the watched Deployment but have nothing to do with it.
func podsCmd(args []string) error {
	fs := flag.NewFlagSet("pods", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file")
	ns := fs.String("n", "default", "namespace")
	count := fs.Int("count", 5000, "number of pods")
	nodes := fs.Int("nodes", 25, "number of kwok nodes (kwok-node-0 ...)")
	workers := fs.Int("workers", 16, "parallel creates")
	if err := fs.Parse(args); err != nil {
		return err
	}
	client, err := clientFor(*kubeconfig, 400)
	if err != nil {
		return err
	}
	ctx := context.Background()
	jobs := make(chan int)
	var created atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				pod := unrelatedPod(*ns, i, fmt.Sprintf("kwok-node-%d", i%*nodes))
				_, err := client.CoreV1().Pods(*ns).Create(ctx, pod, metav1.CreateOptions{})
				if err != nil && !apierrors.IsAlreadyExists(err) {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				created.Add(1)
			}
		}()
	}
	start := time.Now()
	for i := range *count {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	fmt.Fprintf(os.Stderr, "created %d pods in %s\n", created.Load(), time.Since(start).Round(time.Millisecond))
	return firstErr
}

func unrelatedPod(ns string, i int, node string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:      fmt.Sprintf("other-%05d", i),
			Namespace: ns,
			Labels:    map[string]string{"app": "other", "shard": fmt.Sprint(i % 50)},
		},
		Spec: corev1.PodSpec{
			NodeName: node,
			Containers: []corev1.Container{{
				Name:  "main",
				Image: "registry.invalid/other:1",
			}},
			Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
		},
	}
}

// eventsCmd creates Normal Events about the pods matching -l at a steady rate until SIGTERM:
// the unrelated event traffic of a busy namespace.
func eventsCmd(args []string) error {
	fs := flag.NewFlagSet("events", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file")
	ns := fs.String("n", "default", "namespace")
	selector := fs.String("l", "app=other", "pods the events are about")
	rate := fs.Float64("rate", 25, "events per second")
	if err := fs.Parse(args); err != nil {
		return err
	}
	client, err := clientFor(*kubeconfig, float32(*rate)*2+10)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	list, err := client.CoreV1().Pods(*ns).List(ctx, metav1.ListOptions{LabelSelector: *selector})
	if err != nil {
		return err
	}
	if len(list.Items) == 0 {
		return fmt.Errorf("no pods match %q in %s", *selector, *ns)
	}
	reasons := []struct{ reason, message string }{
		{"Pulled", `Container image "registry.invalid/other:1" already present on machine`},
		{"Created", "Created container: main"},
		{"Started", "Started container main"},
		{"Scheduled", "Successfully assigned pod"},
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / *rate))
	defer tick.Stop()
	var sent, failed int
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			fmt.Fprintf(os.Stderr, "created %d events (%d failed)\n", sent, failed)
			return nil
		case <-tick.C:
		}
		pod := list.Items[rand.IntN(len(list.Items))]
		r := reasons[i%len(reasons)]
		now := metav1.Now()
		ev := &corev1.Event{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", pod.Name, time.Now().UnixNano()), Namespace: *ns},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: *ns, Name: pod.Name,
				UID: pod.UID, FieldPath: "spec.containers{main}"},
			Reason: r.reason, Message: r.message, Type: corev1.EventTypeNormal,
			Source:         corev1.EventSource{Component: "kubelet", Host: pod.Spec.NodeName},
			FirstTimestamp: now, LastTimestamp: now, Count: 1,
			ReportingController: "kubelet", ReportingInstance: pod.Spec.NodeName,
		}
		if _, err := client.CoreV1().Events(*ns).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
			if ctx.Err() != nil {
				continue
			}
			failed++
			if failed == 1 || failed%100 == 0 {
				fmt.Fprintf(os.Stderr, "creating an event failed (%d so far): %v\n", failed, err)
			}
			continue
		}
		sent++
	}
}

// waitCmd waits until -count pods matching -l are Running, Ready and not terminating, and no
// other pod matching -l remains.
func waitCmd(args []string) error {
	fs := flag.NewFlagSet("wait", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file")
	ns := fs.String("n", "default", "namespace")
	selector := fs.String("l", "", "label selector")
	count := fs.Int("count", 0, "pods that must be ready")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	client, err := clientFor(*kubeconfig, 50)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	start := time.Now()
	next := 10 * time.Second
	for {
		ready, total := 0, 0
		p := pager.New(func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return client.CoreV1().Pods(*ns).List(ctx, opts)
		})
		p.PageSize = 1000
		err := p.EachListItem(ctx, metav1.ListOptions{LabelSelector: *selector}, func(obj runtime.Object) error {
			pod := obj.(*corev1.Pod)
			total++
			if pod.DeletionTimestamp == nil && pod.Status.Phase == corev1.PodRunning && isReady(pod) {
				ready++
			}
			return nil
		})
		if err == nil && ready == *count && total == *count {
			fmt.Fprintf(os.Stderr, "%d pods (%s) ready after %s\n", ready, *selector, time.Since(start).Round(time.Second))
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("timed out: %d of %d pods (%s) ready, %d in total", ready, *count, *selector, total)
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			fmt.Fprintf(os.Stderr, "listing pods: %v\n", err)
		}
		if time.Since(start) >= next {
			fmt.Fprintf(os.Stderr, "waiting: %d of %d pods (%s) ready, %d in total (%s)\n", ready, *count, *selector, total, time.Since(start).Round(time.Second))
			next += 10 * time.Second
		}
		time.Sleep(2 * time.Second)
	}
}

func isReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
