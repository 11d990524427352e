// Package apidocs serves the remotectl.v1 descriptors with their comments.
//
// protoc-gen-go drops source_code_info from the descriptors it embeds in the
// generated code, so reflection built on them shows no documentation
// (grpcurl describe prints bare declarations). `make proto` also writes the
// buf image of proto/ (`buf build`: every file with its imports and source
// info) here; reflection resolves files from it, and from the generated
// registry for everything else (health, reflection itself).
package apidocs

import (
	_ "embed"
	"fmt"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

//go:embed remotectl.binpb
var image []byte

var load = sync.OnceValues(func() (*protoregistry.Files, error) {
	set, err := Set()
	if err != nil {
		return nil, err
	}
	return protodesc.NewFiles(set)
})

// Set returns the embedded descriptors, with source info. buf's own
// per-file extension (field 8042: is_import and the like) is dropped.
func Set() (*descriptorpb.FileDescriptorSet, error) {
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(image, &set); err != nil {
		return nil, fmt.Errorf("apidocs: embedded image: %w", err)
	}
	for _, f := range set.GetFile() {
		f.ProtoReflect().SetUnknown(nil)
	}
	return &set, nil
}

// Resolver finds files and descriptors in the documented image first, then
// in the generated registry. It never fails to build: a broken image (caught
// by this package's tests) falls back to the generated registry alone.
func Resolver() protodesc.Resolver {
	files, err := load()
	if err != nil {
		return protoregistry.GlobalFiles
	}
	return resolver{files}
}

type resolver struct{ docs *protoregistry.Files }

func (r resolver) FindFileByPath(path string) (protoreflect.FileDescriptor, error) {
	if fd, err := r.docs.FindFileByPath(path); err == nil {
		return fd, nil
	}
	return protoregistry.GlobalFiles.FindFileByPath(path)
}

func (r resolver) FindDescriptorByName(name protoreflect.FullName) (protoreflect.Descriptor, error) {
	if d, err := r.docs.FindDescriptorByName(name); err == nil {
		return d, nil
	}
	return protoregistry.GlobalFiles.FindDescriptorByName(name)
}
