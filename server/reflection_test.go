package server

import (
	"context"
	"strings"
	"testing"

	v1reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Reflection answers with descriptors that carry the protos' comments (what
// grpcurl describe prints), and still resolves files outside remotectl.v1.
func TestReflectionServesDocumentation(t *testing.T) {
	c := startBufconn(t, Config{Processes: &stubLister{}, Services: &stubManager{}})
	stream, err := v1reflectionpb.NewServerReflectionClient(c.Conn()).ServerReflectionInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stream.CloseSend() }()
	ask := func(symbol string) []*descriptorpb.FileDescriptorProto {
		t.Helper()
		if err := stream.Send(&v1reflectionpb.ServerReflectionRequest{MessageRequest: &v1reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: symbol}}); err != nil {
			t.Fatal(err)
		}
		resp, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if e := resp.GetErrorResponse(); e != nil {
			t.Fatalf("%s: %s", symbol, e.GetErrorMessage())
		}
		var out []*descriptorpb.FileDescriptorProto
		for _, b := range resp.GetFileDescriptorResponse().GetFileDescriptorProto() {
			fd := &descriptorpb.FileDescriptorProto{}
			if err := proto.Unmarshal(b, fd); err != nil {
				t.Fatal(err)
			}
			out = append(out, fd)
		}
		return out
	}

	files := ask("remotectl.v1.ProcessService.ListProcesses")
	set := &descriptorpb.FileDescriptorSet{File: files}
	reg, err := protodesc.NewFiles(set)
	if err != nil {
		t.Fatalf("the files served do not resolve (a missing dependency?): %v", err)
	}
	d, err := reg.FindDescriptorByName("remotectl.v1.ProcessService.ListProcesses")
	if err != nil {
		t.Fatal(err)
	}
	if doc := d.ParentFile().SourceLocations().ByDescriptor(d).LeadingComments; strings.TrimSpace(doc) == "" {
		t.Error("ListProcesses is served without its documentation")
	}
	// Files the image does not hold come from the generated registry.
	if hf := ask("grpc.health.v1.Health"); len(hf) == 0 || hf[0].GetName() != "grpc/health/v1/health.proto" {
		t.Errorf("health file: %v", hf)
	}
}
