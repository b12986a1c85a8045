// Command check-compose loads compose files with compose-go, the library `docker compose config`
// is built on, so the stack is validated on machines without the Docker Compose plugin. It also
// checks what compose-go leaves to `docker compose up`: build contexts and Dockerfiles exist,
// every `service_healthy` dependency has a healthcheck, and no two services publish the same
// host port. With -readme, every service the README's compose table names must exist. It prints
// the resolved project.
//
//	go run ./compose/check [-readme README.md] compose/docker-compose.yml
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

func main() {
	readme := flag.String("readme", "", "a README whose compose table names services (| `name` | ...)")
	flag.Parse()
	if flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: check-compose [-readme README.md] COMPOSE_FILE...")
		os.Exit(2)
	}
	project, err := load(flag.Args())
	if err != nil {
		fmt.Fprintf(os.Stderr, "invalid compose project: %v\n", err)
		os.Exit(1)
	}
	problems := check(project)
	if *readme != "" {
		named, err := readmeServices(*readme)
		if err != nil {
			fmt.Fprintf(os.Stderr, "cannot read %s: %v\n", *readme, err)
			os.Exit(1)
		}
		if len(named) == 0 {
			problems = append(problems, fmt.Sprintf("%s names no compose service", *readme))
		}
		for _, name := range named {
			if _, ok := project.Services[name]; !ok {
				problems = append(problems, fmt.Sprintf("%s names service %s, which the compose files do not define", *readme, name))
			}
		}
	}
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

// The rows of the README's compose table: "| `service` | ..." between the markers.
var serviceRow = regexp.MustCompile("^\\| `([a-z0-9-]+)` \\|")

// readmeServices lists the services named in the README's table that starts after the line
// "<!-- compose-services -->" and ends at the first line that is not a table row.
func readmeServices(path string) ([]string, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	var names []string
	inside := false
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		line := scanner.Text()
		if strings.TrimSpace(line) == "<!-- compose-services -->" {
			inside = true
			continue
		}
		if !inside {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			if len(names) > 0 {
				break
			}
			continue
		}
		if match := serviceRow.FindStringSubmatch(line); match != nil {
			names = append(names, match[1])
		}
	}
	return names, scanner.Err()
}

func check(project *types.Project) []string {
	var problems []string
	published := map[string]string{}
	for name, service := range project.Services {
		for _, port := range service.Ports {
			if port.Published == "" {
				continue
			}
			key := port.HostIP + ":" + port.Published + "/" + port.Protocol
			if other, taken := published[key]; taken {
				problems = append(problems, fmt.Sprintf("%s and %s both publish host port %s", other, name, key))
			}
			published[key] = name
		}
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
