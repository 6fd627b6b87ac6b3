package jobs_test

import (
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/oskproject/osk/internal/jobs"
	"github.com/oskproject/osk/internal/testing/rabbitmqtest"
)

// TestRabbitInitReadOnlyConsumer: on a real RabbitMQ, nova publishes a
// notification in its vhost; StackLight's consumer, set up by rabbit-init
// with nova's vhost read-only on the notification queues, reads it, and
// may neither read another queue, nor declare one, nor publish.
func TestRabbitInitReadOnlyConsumer(t *testing.T) {
	t.Parallel()
	mq := rabbitmqtest.Start(t)
	bus := []jobs.RabbitBus{{URL: mq.ManagementURL, AdminUser: mq.AdminUser, AdminPassword: mq.AdminPassword}}
	nova := jobs.RabbitInit{Buses: bus, User: "nova", Password: "nova-password", VHost: "nova", Wait: 30 * time.Second}
	consumer := jobs.RabbitInit{Buses: bus, User: "stacklight", Password: "stacklight-password", VHost: "stacklight",
		ReadVHosts: []string{"nova"}, ReadQueues: `^notifications\..*`, Wait: 30 * time.Second}
	for _, j := range []jobs.RabbitInit{nova, consumer, consumer} {
		if err := j.Run(t.Context()); err != nil {
			t.Fatalf("%s: %v", j.User, err)
		}
	}
	pub := channel(t, mq, "nova", "nova-password", "nova")
	for _, q := range []string{"notifications.info", "compute"} {
		if _, err := pub.QueueDeclare(q, false, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
		if err := pub.PublishWithContext(t.Context(), "", q, false, false, amqp.Publishing{Body: []byte(q)}); err != nil {
			t.Fatal(err)
		}
	}

	sub := channel(t, mq, "stacklight", "stacklight-password", "nova")
	deadline := time.Now().Add(10 * time.Second)
	for {
		msg, ok, err := sub.Get("notifications.info", true)
		if err != nil {
			t.Fatalf("the consumer cannot read notifications.info: %v", err)
		}
		if ok && string(msg.Body) == "notifications.info" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the notification never arrived")
		}
		time.Sleep(100 * time.Millisecond)
	}
	refused := map[string]func(ch *amqp.Channel) error{
		"reading queue compute": func(ch *amqp.Channel) error { _, _, err := ch.Get("compute", true); return err },
		"declaring a queue": func(ch *amqp.Channel) error {
			_, err := ch.QueueDeclare("notifications.mine", false, true, false, false, nil)
			return err
		},
		"publishing": func(ch *amqp.Channel) error {
			closed := ch.NotifyClose(make(chan *amqp.Error, 1))
			if err := ch.PublishWithContext(t.Context(), "", "notifications.info", false, false, amqp.Publishing{Body: []byte("x")}); err != nil {
				return err
			}
			select { // a refused publish closes the channel
			case err := <-closed:
				if err == nil {
					return amqp.ErrClosed
				}
				return err
			case <-time.After(5 * time.Second):
				return nil
			}
		},
	}
	for what, try := range refused {
		if err := try(channel(t, mq, "stacklight", "stacklight-password", "nova")); err == nil {
			t.Errorf("the consumer succeeded %s", what)
		} else {
			t.Logf("%s: refused: %v", what, err)
		}
	}
}

// channel opens a channel as user in vhost, closed when t ends.
func channel(t *testing.T, mq *rabbitmqtest.Server, user, password, vhost string) *amqp.Channel {
	t.Helper()
	conn, err := amqp.Dial(mq.URL(user, password, vhost))
	if err != nil {
		t.Fatalf("%s cannot connect to vhost %s: %v", user, vhost, err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}
