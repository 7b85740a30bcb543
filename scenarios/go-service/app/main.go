// hello-service: a small HTTP service, built the way many Go services are shipped.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "--version" {
		fmt.Println("hello-service 1.0")
		return
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "hello from hello-service")
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
