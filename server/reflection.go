package server

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/reflection"
	v1reflectiongrpc "google.golang.org/grpc/reflection/grpc_reflection_v1"
	v1alphareflectiongrpc "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/remotectl/remotectl/internal/apidocs"
)

// registerReflection serves reflection (v1 and v1alpha, like
// reflection.Register) from descriptors that keep the protos' comments, so
// `grpcurl describe` and other tools show the API documentation.
func registerReflection(gs *grpc.Server) {
	opts := reflection.ServerOptions{Services: gs, DescriptorResolver: apidocs.Resolver(), ExtensionResolver: protoregistry.GlobalTypes}
	v1reflectiongrpc.RegisterServerReflectionServer(gs, reflection.NewServerV1(opts))
	v1alphareflectiongrpc.RegisterServerReflectionServer(gs, reflection.NewServer(opts)) //nolint:staticcheck // v1alpha for older tools, as reflection.Register does
}
