package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// Commit is one change under the watched etcd prefix, stamped when etcd announced it: the
// moment the change was written, as close as anything outside etcd can see it. Rev is the
// etcd revision, which the API server hands out as the object's resourceVersion (for a
// deletion: the resourceVersion of the DELETED watch event).
type Commit struct {
	T    time.Time `json:"t"`
	Type string    `json:"type"`
	Key  string    `json:"key"`
	Rev  int64     `json:"rev"`
}

// etcd's JSON gateway (grpc-gateway): int64 fields arrive as strings, bytes as base64.
type gwWatchResponse struct {
	Result *struct {
		Header struct {
			Revision string `json:"revision"`
		} `json:"header"`
		Created bool `json:"created"`
		Events  []struct {
			Type string `json:"type"`
			KV   struct {
				Key         string `json:"key"`
				ModRevision string `json:"mod_revision"`
			} `json:"kv"`
		} `json:"events"`
	} `json:"result"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

func etcdWatchCmd(args []string) error {
	fs := flag.NewFlagSet("etcdwatch", flag.ContinueOnError)
	endpoint := fs.String("endpoint", "http://127.0.0.1:2379", "etcd client URL")
	prefix := fs.String("prefix", "/registry/pods/", "key prefix to watch")
	out := fs.String("out", "", "write one Commit per line here (NDJSON)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("-out is required")
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	defer w.Flush()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	end := []byte(*prefix)
	end[len(end)-1]++ // the range [prefix, prefix+1) is every key under prefix
	body, _ := json.Marshal(map[string]any{"create_request": map[string]any{
		"key":       base64.StdEncoding.EncodeToString([]byte(*prefix)),
		"range_end": base64.StdEncoding.EncodeToString(end),
	}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, *endpoint+"/v3/watch", bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("etcd watch: %s", resp.Status)
	}
	dec := json.NewDecoder(resp.Body)
	created := false
	for {
		var m gwWatchResponse
		if err := dec.Decode(&m); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("etcd watch stream: %w", err)
		}
		t := time.Now()
		if m.Error != nil {
			return fmt.Errorf("etcd watch: %s", m.Error.Message)
		}
		if m.Result == nil {
			continue
		}
		if m.Result.Created && !created {
			created = true
			fmt.Fprintf(os.Stderr, "watching %s from revision %s\n", *prefix, m.Result.Header.Revision)
		}
		for _, ev := range m.Result.Events {
			key, _ := base64.StdEncoding.DecodeString(ev.KV.Key)
			rev, _ := strconv.ParseInt(ev.KV.ModRevision, 10, 64)
			typ := ev.Type
			if typ == "" {
				typ = "PUT" // the zero value of the enum is left out
			}
			b, _ := json.Marshal(Commit{T: t, Type: typ, Key: string(key), Rev: rev})
			w.Write(append(b, '\n'))
		}
	}
}
