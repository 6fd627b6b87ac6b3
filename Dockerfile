# The osk image: one static binary that is the operator, its jobs and its
# agents. Build with: docker build -t osk:dev .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/oskproject/osk/internal/catalog.OskVersion=${VERSION}" -o /osk ./cmd/osk

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /osk /usr/local/bin/osk
USER 65532:65532
ENTRYPOINT ["osk"]
