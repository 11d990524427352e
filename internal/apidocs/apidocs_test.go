package apidocs

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	_ "github.com/remotectl/remotectl/proto/remotectl/v1" // registers the generated descriptors
)

// The image must describe exactly the API the generated code was made
// from: a proto changed without `make proto` fails here.
func TestImageMatchesGeneratedCode(t *testing.T) {
	set, err := Set()
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, f := range set.GetFile() {
		if !strings.HasPrefix(f.GetName(), "remotectl/") {
			continue
		}
		seen++
		gen, err := protoregistry.GlobalFiles.FindFileByPath(f.GetName())
		if err != nil {
			t.Fatalf("%s is in the image but not in the generated code: run `make proto`", f.GetName())
		}
		want := protodesc.ToFileDescriptorProto(gen)
		got := proto.Clone(f).(*descriptorpb.FileDescriptorProto)
		got.SourceCodeInfo = nil
		if !proto.Equal(want, got) {
			t.Errorf("%s: the image differs from the generated code: run `make proto`", f.GetName())
		}
	}
	// And every generated file is in the image (a new proto without `make proto`).
	protoregistry.GlobalFiles.RangeFilesByPackage("remotectl.v1", func(fd protoreflect.FileDescriptor) bool {
		found := false
		for _, f := range set.GetFile() {
			found = found || f.GetName() == fd.Path()
		}
		if !found {
			t.Errorf("%s is generated but not in the image: run `make proto`", fd.Path())
		}
		return true
	})
	if seen < 3 {
		t.Errorf("%d remotectl files in the image, want agent, process and service", seen)
	}
}

func TestResolverHasDocs(t *testing.T) {
	d, err := Resolver().FindDescriptorByName("remotectl.v1.ProcessService.ListProcesses")
	if err != nil {
		t.Fatal(err)
	}
	doc := d.ParentFile().SourceLocations().ByDescriptor(d).LeadingComments
	if !strings.Contains(doc, "List") {
		t.Errorf("ListProcesses has no leading comment in the image: %q", doc)
	}
	// Outside the image: the generated registry answers.
	if _, err := Resolver().FindFileByPath("google/protobuf/duration.proto"); err != nil {
		t.Error(err)
	}
}
