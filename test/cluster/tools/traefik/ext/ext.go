// Package ext holds the extension points Traefik's dynamic configuration embeds. The
// open-source build has none, so they are empty.
package ext

// HTTP is embedded in dynamic.HTTP.
type HTTP struct{}

// Router is embedded in dynamic.Router.
type Router struct{}
