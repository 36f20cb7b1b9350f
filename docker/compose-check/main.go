// compose-check loads a Compose file the way Docker Compose v2 does (compose-go, the library inside
// `docker compose`), with an env file as the environment, and exits non-zero with the loader's message when the
// file is not a valid Compose project. It needs no Docker engine: CI runs it where none is.
//
//	compose-check -f docker-compose.yml --env-file .env.example [-json]
//
// On success it prints the project's name and services, one line; with -json, the loaded project as Compose
// sees it (anchors merged, variables interpolated, ports in long form), for the tests to read.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	file := flag.String("f", "docker-compose.yml", "the Compose file")
	envFile := flag.String("env-file", "", "a .env file giving the environment (as `docker compose --env-file`)")
	asJSON := flag.Bool("json", false, "print the loaded project as JSON")
	flag.Parse()
	if err := check(*file, *envFile, *asJSON); err != nil {
		fmt.Fprintf(os.Stderr, "compose-check: %s: %v\n", *file, err)
		os.Exit(1)
	}
}

func check(file, envFile string, asJSON bool) error {
	options := []cli.ProjectOptionsFn{
		// Only the env file: the caller's own variables must not hide a missing one.
		cli.WithWorkingDirectory("."),
		cli.WithResolvedPaths(true),
		cli.WithInterpolation(true),
		cli.WithNormalization(true),
		cli.WithConsistency(true),
	}
	if envFile != "" {
		options = append(options, cli.WithEnvFiles(envFile), cli.WithDotEnv)
	}
	projectOptions, err := cli.NewProjectOptions([]string{file}, options...)
	if err != nil {
		return err
	}
	project, err := projectOptions.LoadProject(context.Background())
	if err != nil {
		return err
	}
	if asJSON {
		loaded, err := project.MarshalJSON()
		if err != nil {
			return err
		}
		fmt.Println(string(loaded))
		return nil
	}
	names := project.ServiceNames()
	sort.Strings(names)
	fmt.Printf("compose-check: %s: project %s, services %s\n", file, project.Name, strings.Join(names, " "))
	return nil
}
