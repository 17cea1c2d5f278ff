package main

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"regexp"
	"sigs.k8s.io/yaml"
	"sort"
	"strings"
	"text/template"
)

// releaseData is what krew-release-bot hands to the URL inside addURIAndSha.
type releaseData struct {
	TagName string
	Version string
}

// numericVersion matches krew-release-bot's extraction of "1.2.3" from a tag.
var numericVersion = regexp.MustCompile(`\d+(\.\d+)+`)

// versionFromTag returns the numeric part of tag, or tag when it has none.
func versionFromTag(tag string) string {
	if v := numericVersion.FindString(tag); v != "" {
		return v
	}
	return tag
}

// renderManifest executes a .krew.yaml template with the functions
// krew-release-bot provides ({{ .TagName }}, addURIAndSha, indent), so the
// same file serves the bot on release and this tool locally. Where the bot
// downloads each URL to hash it, the hash here comes from sums, keyed by the
// URL's file name. It returns the rendered manifest and the file names used.
//
// With skipMissing, platforms whose archive was not built are left out of the manifest
// (a dist narrowed with -platforms); otherwise a missing archive is an error.
func renderManifest(name string, tmpl []byte, tag string, sums map[string]string, skipMissing bool) ([]byte, []string, error) {
	var used []string
	funcs := template.FuncMap{
		"addURIAndSha": func(rawURL, tag string) (string, error) {
			u, err := template.New("url").Option("missingkey=error").Parse(rawURL)
			if err != nil {
				return "", fmt.Errorf("addURIAndSha URL %q: %w", rawURL, err)
			}
			var buf bytes.Buffer
			if err := u.Execute(&buf, releaseData{TagName: tag, Version: versionFromTag(tag)}); err != nil {
				return "", fmt.Errorf("addURIAndSha URL %q: %w", rawURL, err)
			}
			uri := buf.String()
			file := path.Base(uri)
			sum, ok := sums[file]
			if !ok && skipMissing {
				return "uri: " + skipURI, nil
			}
			if !ok {
				return "", fmt.Errorf("addURIAndSha: no archive named %s was built (the template's URLs and the built platforms disagree)", file)
			}
			used = append(used, file)
			// The bot's exact layout: the template line holds the indent of
			// "uri:", and sha256 follows at the four spaces platforms use.
			return fmt.Sprintf("uri: %s\n    sha256: %s", uri, sum), nil
		},
		"indent": func(spaces int, v string) string {
			v = strings.ReplaceAll(v, "    sha256:", "sha256:")
			pad := strings.Repeat(" ", spaces)
			return strings.TrimSpace(pad + strings.ReplaceAll(v, "\n", "\n"+pad))
		},
	}
	t, err := template.New(name).Funcs(funcs).Option("missingkey=error").Parse(string(tmpl))
	if err != nil {
		return nil, nil, fmt.Errorf("parse %s: %w", name, err)
	}
	var out bytes.Buffer
	if err := t.Execute(&out, releaseData{TagName: tag, Version: versionFromTag(tag)}); err != nil {
		return nil, nil, fmt.Errorf("render %s: %w", name, err)
	}
	if !skipMissing {
		return out.Bytes(), used, nil
	}
	m, err := dropSkipped(out.Bytes())
	return m, used, err
}

// skipURI stands for the URI of a platform that was not built.
const skipURI = "not-built"

// dropSkipped removes the platforms marked with skipURI from a rendered manifest.
func dropSkipped(manifest []byte) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(manifest, &doc); err != nil {
		return nil, fmt.Errorf("rendered manifest: %w", err)
	}
	spec, _ := doc["spec"].(map[string]any)
	platforms, _ := spec["platforms"].([]any)
	kept := platforms[:0]
	for _, p := range platforms {
		if pm, ok := p.(map[string]any); ok && pm["uri"] == skipURI {
			continue
		}
		kept = append(kept, p)
	}
	spec["platforms"] = kept
	return yaml.Marshal(doc)
}

// formatSums writes sums in the format of sha256sum(1), sorted by file name,
// so that `sha256sum -c` checks a download.
func formatSums(sums map[string]string) []byte {
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	for _, n := range names {
		fmt.Fprintf(&b, "%s  %s\n", sums[n], n)
	}
	return b.Bytes()
}

// sha256Hex matches one lowercase hex SHA-256 digest.
var sha256Hex = regexp.MustCompile(`^[a-f0-9]{64}$`)

// parseSums reads sha256sum(1) output: "DIGEST  NAME" or "DIGEST *NAME".
func parseSums(data []byte) (map[string]string, error) {
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		sum, name, ok := strings.Cut(text, " ")
		name = strings.TrimPrefix(strings.TrimSpace(name), "*")
		if !ok || !sha256Hex.MatchString(sum) || name == "" {
			return nil, fmt.Errorf("line %d: want \"SHA256  FILE\", got %q", line, text)
		}
		sums[name] = sum
	}
	return sums, sc.Err()
}
