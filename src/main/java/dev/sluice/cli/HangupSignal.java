package dev.sluice.cli;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs an action on SIGHUP, as daemons reload their configuration.
 *
 * <p>Uses {@code sun.misc.Signal} (module {@code jdk.unsupported}, present in every JDK build we
 * know) through reflection: javac warns about that API at compile time even where it is supported,
 * and the build treats warnings as errors. Where the signal cannot be handled (another OS, a JVM
 * run with {@code -Xrs}, a JDK without the module) nothing is installed, one line says so, and
 * SIGHUP keeps the JVM's default meaning (shutdown). The action runs on the JVM's signal-dispatch
 * thread, one per signal.
 */
final class HangupSignal implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HangupSignal.class);

    private final Method handle;
    private final Object signal;
    private final Object previous;

    private HangupSignal(Method handle, Object signal, Object previous) {
        this.handle = handle;
        this.signal = signal;
        this.previous = previous;
    }

    /** Installs {@code action} as the SIGHUP handler; empty when signals cannot be handled here. */
    static Optional<HangupSignal> install(Runnable action) {
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Object signal = signalClass.getConstructor(String.class).newInstance("HUP");
            Object handler = Proxy.newProxyInstance(HangupSignal.class.getClassLoader(), new Class<?>[] {handlerClass},
                    (proxy, method, args) -> switch (method.getName()) {
                        case "handle" -> {
                            run(action);
                            yield null;
                        }
                        case "equals" -> proxy == args[0];
                        case "hashCode" -> System.identityHashCode(proxy);
                        case "toString" -> "Sluice SIGHUP handler";
                        default -> null;
                    });
            Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
            Object previous = handle.invoke(null, signal, handler);
            return Optional.of(new HangupSignal(handle, signal, previous));
        } catch (InvocationTargetException e) {
            log.info("SIGHUP cannot be handled here, so it will not reload the configuration: {}",
                    e.getCause().getMessage());
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            log.info("SIGHUP cannot be handled here, so it will not reload the configuration: {}", e.toString());
        }
        return Optional.empty();
    }

    private static void run(Runnable action) {
        try {
            action.run();
        } catch (RuntimeException e) {
            log.error("SIGHUP handling failed", e);
        }
    }

    /** Gives SIGHUP back to the handler that was there before. */
    @Override
    public void close() {
        try {
            handle.invoke(null, signal, previous);
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug("restoring the previous SIGHUP handler failed: {}", e.toString());
        }
    }
}
