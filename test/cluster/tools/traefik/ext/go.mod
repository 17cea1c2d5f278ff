// Module ext stands in for Traefik's nested dynamic/ext module, which Traefik's module zip
// leaves out: the open-source build uses its extension points as empty structs.
module github.com/traefik/traefik/dynamic/ext

go 1.24.0
