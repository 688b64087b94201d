using System.Net;
using Actors.Net.Udp;
using Akka.Actor;
using Akka.Dispatch.MessageQueues;
using Akka.IO;
using Xunit;

namespace Actors.Net.Tests.Udp;

/// <summary>The queue alone, no actor system: what it drops, what it never drops, and in what order it hands out.</summary>
public sealed class DatagramQueueTests
{
    private static readonly IPEndPoint Source = new(IPAddress.Loopback, 6881);

    private static Envelope Datagram(int n) =>
        new(new Akka.IO.Udp.Received(ByteString.FromBytes(BitConverter.GetBytes(n)), Source), ActorRefs.NoSender);

    private static Envelope Command(int n) => new(n, ActorRefs.NoSender);

    private static List<object> Drain(DatagramQueue queue)
    {
        var messages = new List<object>();
        while (queue.TryDequeue(out var envelope)) messages.Add(envelope.Message);
        return messages;
    }

    private static int Number(object message) =>
        message is Akka.IO.Udp.Received r ? BitConverter.ToInt32(r.Data.ToArray()) : (int)message;

    [Fact]
    public void Datagrams_over_the_bound_are_dropped_and_counted()
    {
        var totals = new List<long>();
        var queue = new DatagramQueue(3, totals.Add);
        for (var i = 0; i < 10; i++) queue.Enqueue(ActorRefs.Nobody, Datagram(i));

        Assert.Equal(3, queue.QueuedDatagrams);
        Assert.Equal(7, queue.Dropped);
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], totals);
        // The first three were kept (the newest are dropped, as a full socket buffer does).
        Assert.Equal([0, 1, 2], Drain(queue).Select(Number));
        Assert.Equal(0, queue.QueuedDatagrams);
    }

    [Fact]
    public void Other_messages_are_never_dropped_even_when_the_datagrams_are_full()
    {
        var queue = new DatagramQueue(2);
        queue.Enqueue(ActorRefs.Nobody, Datagram(0));
        queue.Enqueue(ActorRefs.Nobody, Datagram(1));
        for (var i = 0; i < 10_000; i++)
        {
            queue.Enqueue(ActorRefs.Nobody, Command(100 + i));
            queue.Enqueue(ActorRefs.Nobody, Datagram(2)); // always over the bound
        }
        queue.Enqueue(ActorRefs.Nobody, new Envelope(Akka.IO.Udp.Unbound.Instance, ActorRefs.NoSender));

        var messages = Drain(queue);
        Assert.Equal(2 + 10_000 + 1, messages.Count);
        Assert.Equal(10_000, messages.Count(m => m is int));
        Assert.IsType<Akka.IO.Udp.Unbound>(messages[^1]);
        Assert.Equal(10_000, queue.Dropped);
    }

    [Fact]
    public void Order_is_first_in_first_out_across_datagrams_and_commands()
    {
        var queue = new DatagramQueue(1000);
        for (var i = 0; i < 300; i++) queue.Enqueue(ActorRefs.Nobody, i % 3 == 0 ? Command(i) : Datagram(i));

        Assert.Equal(Enumerable.Range(0, 300), Drain(queue).Select(Number));
        Assert.Equal(0, queue.Dropped);
    }

    [Fact]
    public void A_datagram_taken_out_makes_room_for_the_next()
    {
        var queue = new DatagramQueue(2);
        queue.Enqueue(ActorRefs.Nobody, Datagram(0));
        queue.Enqueue(ActorRefs.Nobody, Datagram(1));
        queue.Enqueue(ActorRefs.Nobody, Datagram(2)); // dropped
        Assert.True(queue.TryDequeue(out _));
        queue.Enqueue(ActorRefs.Nobody, Datagram(3)); // room again

        Assert.Equal([1, 3], Drain(queue).Select(Number));
        Assert.Equal(1, queue.Dropped);
    }

    [Fact]
    public void Unstashed_messages_come_first_in_their_order_and_are_never_dropped()
    {
        // Stash.UnstashAll puts messages back with EnqueueFirst, last one first.
        var queue = new DatagramQueue(2);
        queue.Enqueue(ActorRefs.Nobody, Datagram(10));
        queue.Enqueue(ActorRefs.Nobody, Datagram(11));
        for (var i = 3; i >= 0; i--) queue.EnqueueFirst(i % 2 == 0 ? Datagram(i) : Command(i));

        Assert.Equal(4, queue.QueuedDatagrams); // put back over the bound: nothing is lost
        queue.Enqueue(ActorRefs.Nobody, Datagram(12)); // but nothing new gets in until there is room
        Assert.Equal(1, queue.Dropped);
        Assert.Equal(6, queue.Count);
        Assert.Equal([0, 1, 2, 3, 10, 11], Drain(queue).Select(Number));
        Assert.Equal(0, queue.QueuedDatagrams);
    }

    [Fact]
    public void The_bound_holds_exactly_with_concurrent_senders()
    {
        var queue = new DatagramQueue(500);
        Parallel.For(0, 4, _ =>
        {
            for (var i = 0; i < 5_000; i++) queue.Enqueue(ActorRefs.Nobody, Datagram(i));
        });

        Assert.Equal(500, queue.QueuedDatagrams);
        Assert.Equal(500, queue.Count);
        Assert.Equal(20_000 - 500, queue.Dropped);
    }

    [Fact]
    public void Clean_up_lets_datagrams_go_and_hands_other_messages_to_dead_letters()
    {
        var queue = new DatagramQueue(10);
        queue.Enqueue(ActorRefs.Nobody, Datagram(0));
        queue.Enqueue(ActorRefs.Nobody, Command(1));
        queue.Enqueue(ActorRefs.Nobody, Datagram(2));
        var deadLetters = new UnboundedMessageQueue();

        queue.CleanUp(ActorRefs.Nobody, deadLetters);

        Assert.False(queue.HasMessages);
        Assert.Equal(1, deadLetters.Count);
        Assert.True(deadLetters.TryDequeue(out var letter));
        Assert.Equal(1, letter.Message);
    }

    [Fact]
    public void A_bound_below_one_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new DatagramQueue(0));
}
