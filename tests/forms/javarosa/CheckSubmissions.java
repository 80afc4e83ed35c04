// Loads submissions into their form with JavaRosa, the engine inside ODK
// Collect (taken from the ODK Validate jar that pyxform ships), the way Collect
// reopens a saved form: the saved answers are put into the form's instance,
// calculations run again, then every relevant question is checked for its
// required flag and its constraint.
//
// Usage: java -cp ODK_Validate.jar CheckSubmissions.java \
//            FORM.xml SUB.xml... [-- FORM.xml SUB.xml...]...
// The form's media (jr://file-csv/...) are read from the form's folder.
// Output, per submission: "== <file>", "FAIL <outcome> <path>" for the first
// question that fails (outcome 1: required answer missing, 2: constraint
// violated), then "VALUE <relevant 1|0> <path>=<value>" for every field after
// recalculation.

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.javarosa.core.model.FormDef;
import org.javarosa.core.model.ValidateOutcome;
import org.javarosa.core.model.data.IAnswerData;
import org.javarosa.core.model.instance.FormInstance;
import org.javarosa.core.model.instance.InstanceInitializationFactory;
import org.javarosa.core.model.instance.TreeElement;
import org.javarosa.core.reference.Reference;
import org.javarosa.core.reference.ReferenceFactory;
import org.javarosa.core.reference.ReferenceManager;
import org.javarosa.model.xform.XFormsModule;
import org.javarosa.xform.parse.XFormParser;
import org.javarosa.xform.util.XFormUtils;

public class CheckSubmissions {
    private static final String CSV = "jr://file-csv/";
    private static Path media;

    public static void main(String[] args) throws Exception {
        new XFormsModule().registerModule();
        ReferenceManager.instance().addReferenceFactory(new MediaFactory());
        FormDef form = null;
        TreeElement blank = null;
        boolean expectForm = true;
        for (String arg : args) {
            if (arg.equals("--")) {
                expectForm = true;
            } else if (expectForm) {
                Path xform = Paths.get(arg).toAbsolutePath();
                media = xform.getParent();
                try (InputStream in = Files.newInputStream(xform)) {
                    form = XFormUtils.getFormFromInputStream(in);
                }
                blank = form.getMainInstance().getRoot().deepCopy(true);
                expectForm = false;
            } else {
                check(form, blank, Paths.get(arg));
            }
        }
    }

    private static void check(FormDef form, TreeElement blank, Path submission)
            throws Exception {
        byte[] saved = Files.readAllBytes(submission);
        FormInstance answers = XFormParser.restoreDataModel(saved, null);
        TreeElement root = blank.deepCopy(true);
        root.populate(answers.getRoot(), form);
        form.getMainInstance().setRoot(root);
        form.initialize(false, new InstanceInitializationFactory());
        System.out.println("== " + submission.getFileName());
        ValidateOutcome outcome = form.validate(true);
        if (outcome != null) {
            String ref = form.getChildInstanceRef(outcome.failedPrompt).toString(false);
            System.out.println("FAIL " + outcome.outcome + " " + ref);
        }
        dump(form.getMainInstance().getRoot(), "");
    }

    private static void dump(TreeElement element, String parent) {
        String path = parent + "/" + element.getName();
        if (element.getNumChildren() == 0) {
            IAnswerData value = element.getValue();
            String text = value == null ? "" : value.uncast().getString();
            String relevant = element.isRelevant() ? "1" : "0";
            System.out.println("VALUE " + relevant + " " + path + "=" + text);
        }
        for (int i = 0; i < element.getNumChildren(); i++) {
            dump(element.getChildAt(i), path);
        }
    }

    private static final class MediaFactory implements ReferenceFactory {
        public boolean derives(String uri) {
            return uri.startsWith(CSV);
        }

        public Reference derive(String uri) {
            return new MediaReference(uri);
        }

        public Reference derive(String uri, String context) {
            return derive(uri);
        }
    }

    private static final class MediaReference implements Reference {
        private final String uri;

        MediaReference(String uri) {
            this.uri = uri;
        }

        private Path path() {
            return media.resolve(uri.substring(CSV.length()));
        }

        public boolean doesBinaryExist() {
            return Files.exists(path());
        }

        public InputStream getStream() throws IOException {
            return Files.newInputStream(path());
        }

        public String getURI() {
            return uri;
        }

        public String getLocalURI() {
            return path().toString();
        }

        public boolean isReadOnly() {
            return true;
        }

        public OutputStream getOutputStream() {
            throw new UnsupportedOperationException("read-only");
        }

        public void remove() {
            throw new UnsupportedOperationException("read-only");
        }

        public Reference[] probeAlternativeReferences() {
            return new Reference[0];
        }
    }
}
