// Command check-compose loads compose files with compose-go, the library `docker compose config`
// is built on, so the stack is validated on machines without the Docker Compose plugin. It also
// checks what compose-go leaves to `docker compose up`: build contexts and Dockerfiles exist,
// and every `service_healthy` dependency has a healthcheck. It prints the resolved project.
//
//	go run ./compose/check compose/docker-compose.yml
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: check-compose COMPOSE_FILE...")
		os.Exit(2)
	}
	project, err := load(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "invalid compose project: %v\n", err)
		os.Exit(1)
	}
	problems := check(project)
	for _, problem := range problems {
		fmt.Fprintln(os.Stderr, "problem:", problem)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
	resolved, err := project.MarshalYAML()
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot print the project: %v\n", err)
		os.Exit(1)
	}
	fmt.Print(string(resolved))
	fmt.Fprintf(os.Stderr, "compose project %q is valid: %d services\n", project.Name, len(project.Services))
}

func load(files []string) (*types.Project, error) {
	options, err := cli.NewProjectOptions(files,
		cli.WithOsEnv,
		cli.WithDotEnv,
		cli.WithName("lake"),
		// Every profile, so on-demand services are checked too.
		cli.WithProfiles([]string{"*"}),
	)
	if err != nil {
		return nil, err
	}
	return options.LoadProject(context.Background())
}

func check(project *types.Project) []string {
	var problems []string
	for name, service := range project.Services {
		if service.Build != nil {
			context := service.Build.Context
			if info, err := os.Stat(context); err != nil || !info.IsDir() {
				problems = append(problems, fmt.Sprintf("%s: build context %s is not a folder", name, context))
			}
			dockerfile := service.Build.Dockerfile
			if !filepath.IsAbs(dockerfile) {
				dockerfile = filepath.Join(context, dockerfile)
			}
			if _, err := os.Stat(dockerfile); err != nil {
				problems = append(problems, fmt.Sprintf("%s: Dockerfile %s is missing", name, dockerfile))
			}
		}
		for dependency, condition := range service.DependsOn {
			target, ok := project.Services[dependency]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s depends on unknown service %s", name, dependency))
				continue
			}
			if condition.Condition == types.ServiceConditionHealthy && target.HealthCheck == nil {
				problems = append(problems, fmt.Sprintf("%s waits for %s to be healthy, but it has no healthcheck", name, dependency))
			}
		}
	}
	return problems
}
