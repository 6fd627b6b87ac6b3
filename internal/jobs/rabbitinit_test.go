package jobs_test

import (
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/oskproject/osk/internal/jobs"
	"github.com/oskproject/osk/internal/testing/rabbitmqtest"
)

// TestRabbitInitOnRabbitMQ runs rabbit-init against a real RabbitMQ,
// twice, and checks that the service reaches its vhost over AMQP with the
// password from its Secret, and no other vhost.
func TestRabbitInitOnRabbitMQ(t *testing.T) {
	t.Parallel()
	mq := rabbitmqtest.Start(t)
	bus := jobs.RabbitBus{URL: mq.ManagementURL, AdminUser: mq.AdminUser, AdminPassword: mq.AdminPassword}
	job := jobs.RabbitInit{Buses: []jobs.RabbitBus{bus}, User: "nova", Password: "first-password", VHost: "nova", Wait: 30 * time.Second}
	for run := 1; run <= 2; run++ {
		if err := job.Run(t.Context()); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
	}
	publish(t, mq, "nova", "first-password", "nova")
	if err := dial(mq, "nova", "first-password", "/"); err == nil {
		t.Error("nova can open the default vhost")
	}

	// A new password in the Secret becomes the user's password.
	job.Password = "second-password"
	if err := job.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	publish(t, mq, "nova", "second-password", "nova")
	if err := dial(mq, "nova", "first-password", "nova"); err == nil {
		t.Error("the old password still works")
	}
}

// TestRabbitInitRefusesEmptyInput checks the checks that run before any
// request.
func TestRabbitInitRefusesEmptyInput(t *testing.T) {
	bus := []jobs.RabbitBus{{URL: "http://127.0.0.1:1", AdminUser: "admin", AdminPassword: "p"}}
	for want, j := range map[string]jobs.RabbitInit{
		"user is empty":     {Buses: bus, Password: "p", VHost: "v"},
		"vhost is empty":    {Buses: bus, User: "u", Password: "p"},
		"password of user":  {Buses: bus, User: "u", VHost: "v"},
		"no bus":            {User: "u", Password: "p", VHost: "v"},
		"admin password is": {Buses: []jobs.RabbitBus{{URL: "http://127.0.0.1:1"}}, User: "u", Password: "p", VHost: "v"},
	} {
		if err := j.Run(t.Context()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: got %v, want an error saying %q", j, err, want)
		}
	}
}

func dial(mq *rabbitmqtest.Server, user, password, vhost string) error {
	conn, err := amqp.Dial(mq.URL(user, password, vhost))
	if err != nil {
		return err
	}
	return conn.Close()
}

// publish declares a queue, publishes to it and reads the message back:
// configure, write and read permissions in the vhost.
func publish(t *testing.T, mq *rabbitmqtest.Server, user, password, vhost string) {
	t.Helper()
	conn, err := amqp.Dial(mq.URL(user, password, vhost))
	if err != nil {
		t.Fatalf("%s cannot connect to vhost %s: %v", user, vhost, err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ch.QueueDeclare("osk-test", false, true, false, false, nil)
	if err != nil {
		t.Fatalf("declaring a queue: %v", err)
	}
	if err := ch.PublishWithContext(t.Context(), "", q.Name, false, false, amqp.Publishing{Body: []byte("hello")}); err != nil {
		t.Fatalf("publishing: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		msg, ok, err := ch.Get(q.Name, true)
		if err != nil {
			t.Fatalf("reading: %v", err)
		}
		if ok {
			if string(msg.Body) != "hello" {
				t.Fatalf("read %q", msg.Body)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the published message never arrived")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
